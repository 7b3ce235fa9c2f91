"""replace_event_days: the idempotent, all-or-nothing day swap every scoring asset writes with."""

import datetime as dt

import duckdb
import pandas as pd
import pytest

from orchestration.defs.models.conventions import replace_event_days

D1, D2, D3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)


def test_days_are_replaced_not_appended_and_a_failure_keeps_the_old_rows():
    conn = duckdb.connect()
    conn.execute("CREATE TABLE scores (event_date DATE NOT NULL, id VARCHAR, p DOUBLE)")
    first = pd.DataFrame({"id": ["a", "b", "c"], "event_date": [D1, D2, D3], "p": [0.1, 0.2, 0.3]})
    replace_event_days(conn, "scores", first, D1, D3)
    again = pd.DataFrame({"event_date": [D2, D2], "id": ["b", "b2"], "p": [0.5, 0.6]})  # columns in another order
    replace_event_days(conn, "scores", again, D2, D2)
    replace_event_days(conn, "scores", again, D2, D2)
    assert conn.execute("SELECT id, p FROM scores ORDER BY id").fetchall() == [
        ("a", 0.1), ("b", 0.5), ("b2", 0.6), ("c", 0.3)]
    broken = pd.DataFrame({"event_date": [None], "id": ["x"], "p": [1.0]})  # violates NOT NULL after the delete
    with pytest.raises(duckdb.ConstraintException):
        replace_event_days(conn, "scores", broken, D1, D3)
    assert conn.execute("SELECT count(*) FROM scores").fetchone()[0] == 4


def test_thin_days_leave_out_partial_and_tiny_days():
    import pandas as pd

    from orchestration.defs.models.conventions import thin_days

    # The late tail before the first landed day: thousands of rows, yet a few percent of a real day.
    rows = pd.Series({"2026-03-01": 40_000, "2026-03-02": 900_000, "2026-03-03": 950_000})
    assert set(thin_days(rows, min_rows=200, unit="rows")) == {"2026-03-01"}
    assert "partial day" in thin_days(rows, min_rows=200, unit="rows")["2026-03-01"]
    small = pd.Series({"2026-03-01": 150, "2026-03-02": 160})
    assert set(thin_days(small, min_rows=200, unit="rows")) == {"2026-03-01", "2026-03-02"}
    assert thin_days(pd.Series(dtype="int64"), min_rows=200, unit="rows") == {}
