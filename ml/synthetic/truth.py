"""Ground truth, written outside the landing folder: what the pipeline and the models should recover.

    truth_dir/world/{users,items,ads}.parquet       latent tastes, quality, appeal
    truth_dir/dt=YYYY-MM-DD/impressions.parquet     true click probability and outcome of every impression, and
                                                    per candidate ad: its logging probability and true click
                                                    probability (the truth of any ad policy's value)
    truth_dir/dt=YYYY-MM-DD/comments.parquet        true sentiment and the (possibly wrong) human label
    truth_dir/dt=YYYY-MM-DD/surveys.parquet         each survey answer's latent compulsivity, score and validity
    truth_dir/dt=YYYY-MM-DD/manifest.json           exact counts of what was written (manifest.py)
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from .comments import SENTIMENTS
from .ids import id_expressions, timestamp_expression
from .writer import CANDIDATE_IDS as _CANDIDATE_IDS
from .world import USER_ID_FORMAT, World, format_ids


def write_world(world: World, truth_dir: Path) -> None:
    out = truth_dir / "world"
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(world.users_table(), out / "users.parquet")
    pq.write_table(world.items_table(), out / "items.parquet")
    pq.write_table(world.ads_table(), out / "ads.parquet")


def write_survey_truth(world: World, survey, truth_dir: Path, day: date) -> None:
    """The latent trait behind each survey answer (survey: surveys.SurveyDay)."""
    out = day_truth_dir(truth_dir, day)
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({
        "response_id": [row[0] for row in survey.rows],
        "user_id": format_ids(USER_ID_FORMAT, survey.users),
        "compulsivity": world.user_compulsivity[survey.users],
        "score": survey.scores,
        "at_risk": survey.at_risk,
        "valid": survey.valid,
    }), out / "surveys.parquet")


def day_truth_dir(truth_dir: Path, day: date) -> Path:
    return truth_dir / f"dt={day.isoformat()}"


def _sentiment_name(column: str) -> str:
    names = ", ".join(f"'{s}'" for s in SENTIMENTS)
    return f"CASE WHEN {column} >= 0 THEN [{names}][{column} + 1] END"


class DayTruth:
    """Streams one day's truth tables, one Parquet row group per chunk."""

    def __init__(self, truth_dir: Path, day: date):
        self.dir = day_truth_dir(truth_dir, day)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.day = day
        self._writers: dict[str, pq.ParquetWriter] = {}

    def add_chunk(self, con: duckdb.DuckDBPyConnection, chunk: int, events: pa.Table) -> list[tuple]:
        """Record a chunk's truth (events: internal table incl. annotation columns, one row per event);
        returns the chunk's annotation CSV rows."""
        ids = id_expressions(self.day, chunk)
        previous_day = self.day - timedelta(days=1)
        con.register("truth_rows", events)
        try:
            self._append("impressions", con.sql(f"""
                SELECT {ids['event_id']} AS event_id, {ids['request_id']} AS request_id,
                       CASE WHEN late THEN DATE '{previous_day}' ELSE DATE '{self.day}' END AS event_date,
                       {ids['user_id']} AS user_id, {ids['ad_id']} AS ad_id, CAST(slot AS INTEGER) AS slot,
                       click_prob AS true_click_prob, clicked, propensity,
                       {_CANDIDATE_IDS} AS candidate_ad_ids,
                       CAST(candidate_probs AS DOUBLE[]) AS candidate_propensities,
                       CAST(candidate_click_probs AS DOUBLE[]) AS candidate_true_click_probs
                FROM truth_rows WHERE event_type = 'impression' ORDER BY seq""").to_arrow_table())
            self._append("comments", con.sql(f"""
                SELECT {ids['event_id']} AS event_id, {_sentiment_name('sentiment')} AS true_sentiment,
                       {_sentiment_name('label')} AS annotated_label,
                       CASE WHEN label >= 0 THEN noisy END AS label_is_noisy
                FROM truth_rows WHERE event_type = 'comment' ORDER BY seq""").to_arrow_table())
            return con.sql(f"""
                SELECT {ids['event_id']}, {_sentiment_name('label')}, printf('ann%02d', annotator + 1),
                       {timestamp_expression('annotated_ms')}
                FROM truth_rows WHERE label >= 0 ORDER BY annotated_ms, seq""").fetchall()
        finally:
            con.unregister("truth_rows")

    def _append(self, name: str, table: pa.Table) -> None:
        if name not in self._writers:
            self._writers[name] = pq.ParquetWriter(self.dir / f"{name}.parquet", table.schema)
        self._writers[name].write_table(table)

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()

    def __enter__(self) -> "DayTruth":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
