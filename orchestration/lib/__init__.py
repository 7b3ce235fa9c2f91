"""Pure helpers used by the Dagster wiring. No Dagster imports here, so each helper is testable alone."""
