"""Dagster definitions by domain: ingest, dbt, ops. Each file is small and named by its role."""
