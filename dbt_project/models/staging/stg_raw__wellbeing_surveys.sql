{{ config(materialized='table') }}
{#
  One row per wellbeing-survey answer with a pseudonymised user (same salted hash as the events, so answers join
  usage) and the questionnaire's verdict: at risk when the total reaches the instrument's cut-off (var
  survey_at_risk_cutoff). A response id delivered twice keeps its latest export. Rebuilt whole (small table).
#}
select
    response_id,
    {{ pseudonymise('user_id') }} as user_key,
    answered_at,
    cast(answered_at as date) as survey_date,
    instrument,
    item_1, item_2, item_3, item_4, item_5, item_6,
    total_score,
    total_score >= {{ var('survey_at_risk_cutoff') }} as is_at_risk
from {{ source('raw', 'surveys') }}
qualify row_number() over (partition by response_id order by source_file desc, line_no desc) = 1
