"""Data quality: expectation suites (expectations/*.yml) validated with Great Expectations on pandas batches.

- suites.py     the suite format, loading and checking it (no GX import)
- derive.py     derived *_problem columns for the checks GX has no built-in for (pure pandas)
- warehouse.py  which files to validate, building one batch at a time from DuckDB, the results table
- gx_runner.py  the GX session of a run: validation, results as rows, Data Docs (imports GX)
- run.py        validate a list of suites against the warehouse and record the results

Nothing here knows about Dagster; dagster_project/defs/checks.py wraps it as asset checks.
See docs/data-quality.md.
"""
