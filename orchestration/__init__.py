"""attnflow's Dagster code location. Wiring only: SQL lives in dbt_project/, modelling in ml/."""
