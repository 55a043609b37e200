"""What a dbt command of the pipeline is given besides the project: its vars and its as-of date.

Parsing the project is a third of a dbt command's start-up, and dbt parses only what changed
since the last parse (`partial_parse.msgpack`) as long as the vars and the profile are the same.
So the vars are only values that rarely change (the measure catalogue's, with finance's
overrides) and `gxindustry prepare` parses with the same ones; the as-of date, different every
week, is the environment variable `AS_OF_ENV`, for which dbt re-parses only the files that read it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from dagster_project.lib.measures.parameters import Parameters

AS_OF_ENV = "GXINDUSTRY_DBT_AS_OF"  # read by the dbt macro as_of_date()


def dbt_vars(params: Parameters) -> dict[str, object]:
    """dbt vars from measure parameters (models that need a measure's value take it from here)."""
    return {"new_destination_lookback_months": int(params.base("M22.lookback_months"))}


@contextmanager
def as_of_environment(as_of: date) -> Iterator[None]:
    """The as-of date in the environment of the dbt processes started inside the block; the
    variable is restored afterwards, so nothing else in this process ever reads a stale value."""
    before = os.environ.get(AS_OF_ENV)
    os.environ[AS_OF_ENV] = as_of.isoformat()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(AS_OF_ENV, None)
        else:
            os.environ[AS_OF_ENV] = before
