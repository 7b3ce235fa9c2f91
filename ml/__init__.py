"""attnflow modelling code: plain Python, no Dagster imports."""
