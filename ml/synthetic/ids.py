"""Contract id strings, defined once as DuckDB expressions so event files and ground truth always agree.

Event ids are `e<YYYYMMDD>-<chunk>-<row>`: unique across days and chunks by construction, so a repeated id in
the landing folder can only be a duplicate delivery.
"""

from __future__ import annotations

from datetime import date

from .world import AD_ID_FORMAT, CAMPAIGN_ID_FORMAT, ITEM_ID_FORMAT, USER_ID_FORMAT


def id_expressions(day: date, chunk: int) -> dict[str, str]:
    """SQL expressions over the internal event columns (see Events.to_arrow) that yield contract ids."""
    prefix = f"{day:%Y%m%d}-{chunk:03d}"
    return {
        "event_id": f"printf('e{prefix}-%07d', seq)",
        "request_id": f"CASE WHEN request >= 0 THEN printf('r{prefix}-%07d', request) END",
        "session_hint": f"CASE WHEN session >= 0 THEN printf('s{prefix}-%06d', session) END",
        "user_id": f"printf('{USER_ID_FORMAT}', user)",
        "item_id": f"CASE WHEN item >= 0 THEN printf('{ITEM_ID_FORMAT}', item) END",
        "ad_id": f"CASE WHEN ad >= 0 THEN printf('{AD_ID_FORMAT}', ad) END",
        "campaign_id": f"CASE WHEN campaign >= 0 THEN printf('{CAMPAIGN_ID_FORMAT}', campaign) END",
    }


def timestamp_expression(column: str) -> str:
    """Epoch milliseconds -> `2026-03-01T12:34:56.789Z`."""
    return f"strftime(epoch_ms({column}), '%Y-%m-%dT%H:%M:%S.%gZ')"
