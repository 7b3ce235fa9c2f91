"""Data quality: Great Expectations suites in expectations/ as blocking (critical) and warning asset checks."""
