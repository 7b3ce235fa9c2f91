{{ config(materialized='table') }}
{#
  One label per comment. When a comment was labelled more than once the latest annotation wins; ties are broken
  by annotator id so the choice is deterministic.
#}
select
    event_id as comment_id,
    lower(trim(label)) as label,
    annotator_id,
    annotated_at
from {{ source('raw', 'annotations') }}
qualify row_number() over (partition by event_id order by annotated_at desc nulls last, annotator_id) = 1
