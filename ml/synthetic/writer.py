"""Turns a chunk of events plus its dirt plan into one part file of the landing folder.

The bulk of the rows is rendered to contract shape and written by DuckDB in one vectorised COPY (JSON lines)
or through pyarrow (Parquet). The few lines that cannot come out of a JSON writer -- objects lacking a
required field, truncated JSON, garbage -- are appended afterwards with plain file I/O.
"""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .dirt import REQUIRED_FIELDS, DirtPlan
from .ids import id_expressions, timestamp_expression
from .world import AD_ID_FORMAT

FILE_FORMATS = ("jsonl", "jsonl.gz", "parquet")

# The candidate ads the serving policy chose an impression's ad from (contract ad ids, in the policy's order).
CANDIDATE_IDS = f"list_transform(CAST(candidates AS INTEGER[]), lambda c: printf('{AD_ID_FORMAT}', c))"
_JSON_PROPERTIES = f"""CASE
    WHEN event_type = 'impression' THEN json_object('topic', topic, 'propensity', propensity,
                                                    'candidates', {CANDIDATE_IDS})
    WHEN event_type = 'purchase' THEN json_object('amount', amount)
    WHEN topic IS NOT NULL THEN json_object('topic', topic) END"""
_STRUCT_PROPERTIES = f"""CASE WHEN topic IS NOT NULL OR amount IS NOT NULL
    THEN {{'topic': topic, 'propensity': propensity, 'amount': amount, 'candidates': {CANDIDATE_IDS}}} END"""


def contract_sql(day: date, chunk: int, relation: str, *, json_properties: bool) -> str:
    """SELECT that renders internal event rows (with a `missing` column naming a dropped field) as contract
    records; in JSON `properties` only carries the keys that apply, in Parquet it is a fixed struct."""
    ids = id_expressions(day, chunk)
    required = {
        "event_id": ids["event_id"],
        "event_ts": timestamp_expression("ts_ms"),
        "event_type": "event_type",
        "user_id": ids["user_id"],
    }
    required_sql = ",\n  ".join(
        f"CASE WHEN missing IS DISTINCT FROM '{name}' THEN {expr} END AS {name}" for name, expr in required.items()
    )
    return f"""SELECT
  {required_sql},
  {ids['session_hint']} AS session_hint,
  {ids['item_id']} AS item_id,
  {ids['ad_id']} AS ad_id,
  {ids['campaign_id']} AS campaign_id,
  CAST(NULLIF(slot, 0) AS INTEGER) AS slot,
  {ids['request_id']} AS request_id,
  device, network, geo,
  CASE WHEN dwell_ms >= 0 THEN dwell_ms END AS dwell_ms,
  text,
  {_JSON_PROPERTIES if json_properties else _STRUCT_PROPERTIES} AS properties
FROM {relation}"""


def part_path(events_dir: Path, chunk: int, file_format: str) -> Path:
    return events_dir / f"part-{chunk:05d}.{file_format}"


def write_part(con: duckdb.DuckDBPyConnection, path: Path, day: date, chunk: int, table: pa.Table,
               plan: DirtPlan, file_format: str) -> int:
    """Write one part file; returns the number of lines (rows) in it."""
    missing = np.full(table.num_rows, None, dtype=object)
    missing[plan.missing_rows] = np.asarray(REQUIRED_FIELDS, dtype=object)[plan.missing_field]
    table = table.append_column("missing", pa.array(missing, type=pa.string()))
    if file_format == "parquet":
        return _write_parquet(con, path, day, chunk, table.take(plan.order))
    return _write_json_lines(con, path, day, chunk, table, plan, compress=file_format == "jsonl.gz")


def _write_parquet(con: duckdb.DuckDBPyConnection, path: Path, day: date, chunk: int, rows: pa.Table) -> int:
    con.register("part_rows", rows)
    try:
        rendered = con.sql(contract_sql(day, chunk, "part_rows", json_properties=False)).to_arrow_table()
    finally:
        con.unregister("part_rows")
    pq.write_table(rendered, path, compression="zstd")
    return rendered.num_rows


def _write_json_lines(con: duckdb.DuckDBPyConnection, path: Path, day: date, chunk: int, table: pa.Table,
                      plan: DirtPlan, *, compress: bool) -> int:
    bulk_order = plan.order[~np.isin(plan.order, plan.missing_rows)]
    con.register("part_rows", table.take(bulk_order))
    try:
        options = "FORMAT JSON, COMPRESSION gzip" if compress else "FORMAT JSON"
        target = str(path).replace("'", "''")
        con.execute(f"COPY ({contract_sql(day, chunk, 'part_rows', json_properties=True)}) TO '{target}' ({options})")
    finally:
        con.unregister("part_rows")

    tail = _tail_lines(con, day, chunk, table, plan)
    if tail:
        payload = "".join(line + "\n" for line in tail).encode("utf-8")
        if compress:  # a second gzip member: still one valid .gz file; mtime=0 keeps the bytes reproducible
            with gzip.GzipFile(path, mode="ab", mtime=0) as out:
                out.write(payload)
        else:
            with open(path, "ab") as out:
                out.write(payload)
    return len(bulk_order) + len(tail)


def _tail_lines(con: duckdb.DuckDBPyConnection, day: date, chunk: int, table: pa.Table, plan: DirtPlan) -> list[str]:
    """Objects lacking a required field, truncated copies of real lines and garbage, in the plan's order."""
    rows = np.concatenate([plan.missing_rows, plan.truncated_rows]).astype(np.int64)
    rendered = _render_json(con, day, chunk, table.take(rows)) if len(rows) else []
    lines = []
    for record, field in zip(rendered, plan.missing_field):
        del record[REQUIRED_FIELDS[field]]
        lines.append(_dumps(record))
    for record, fraction in zip(rendered[len(plan.missing_rows):], plan.truncate_fraction):
        text = _dumps(record)
        lines.append(text[: max(1, int(len(text) * fraction))])
    lines.extend(plan.garbage_lines)
    return [lines[i] for i in plan.tail_order]


def _render_json(con: duckdb.DuckDBPyConnection, day: date, chunk: int, rows: pa.Table) -> list[dict]:
    con.register("tail_rows", rows)
    try:
        sql = f"SELECT to_json(r) FROM ({contract_sql(day, chunk, 'tail_rows', json_properties=True)}) r"
        return [json.loads(text) for (text,) in con.sql(sql).fetchall()]
    finally:
        con.unregister("tail_rows")


def _dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))
