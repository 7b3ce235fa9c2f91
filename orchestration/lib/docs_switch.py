"""The on-demand switch for the HTML reports (Great Expectations Data Docs and the dbt docs site).

Building them costs seconds per run and they are looked at rarely, so they are built only when asked for: by the
environment (ATTNFLOW_DATA_DOCS=1) or per run (tag attnflow/data_docs=true, e.g. from the launchpad).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

DATA_DOCS_ENV = "ATTNFLOW_DATA_DOCS"
DATA_DOCS_TAG = "attnflow/data_docs"
_TRUE = {"1", "true", "yes", "on"}


def data_docs_requested(run_tags: Mapping[str, str]) -> bool:
    """Reports are built when ATTNFLOW_DATA_DOCS is set to a true value, or the run has tag attnflow/data_docs."""
    return (os.environ.get(DATA_DOCS_ENV, "").strip().lower() in _TRUE
            or str(run_tags.get(DATA_DOCS_TAG, "")).strip().lower() in _TRUE)
