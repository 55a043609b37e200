"""The settings resource shared by every asset."""

from datetime import date

import dagster as dg
import duckdb
from pydantic import Field

from dagster_project.lib.ingest import landing_as_of
from dagster_project.lib.ingest.withdrawals import withdrawn_names
from dagster_project.settings import Settings, duckdb_memory_limit

AS_OF_TAG = "gxindustry/as_of"

# The docstring and the field descriptions are what the launchpad shows an operator.
class GxSettings(dg.ConfigurableResource):
    """Where the run reads and writes, and the day it runs for. Leave a field empty to use its
    environment variable (GXINDUSTRY_LANDING, GXINDUSTRY_WAREHOUSE, GXINDUSTRY_REPORTS,
    GXINDUSTRY_PARAMS, GXINDUSTRY_AS_OF), else the default under data/.
    Example: as_of: "2024-11-25" runs the job as it would have run on that day."""

    landing: str = Field(default="", description="Folder of the delivered feeds (one sub-folder per feed).")
    warehouse: str = Field(default="", description="DuckDB warehouse file.")
    reports: str = Field(default="", description="Folder the workbooks and the Data Docs are written to.")
    params: str = Field(default="", description="YAML file of parameter overrides (parameter id: value).")
    # the config key is `as_of`; the attribute has another name because the method `as_of()` resolves it
    configured_as_of: str = Field(default="", alias="as_of", description=(
        "The run's 'today', YYYY-MM-DD: deliveries that would not have arrived by then are ignored. Empty: the "
        "run tag gxindustry/as_of, else GXINDUSTRY_AS_OF, else the latest data date in the landing dir."))

    def resolved(self) -> Settings:
        env = Settings.from_env()
        return Settings(
            landing=_path(self.landing) or env.landing,
            warehouse=_path(self.warehouse) or env.warehouse,
            reports=_path(self.reports) or env.reports,
            params=_path(self.params) or env.params,
            as_of=env.as_of,
        )

    def as_of(self, context: dg.AssetExecutionContext) -> date:
        """The run's as-of date: the run tag, else the launchpad's `as_of`, else GXINDUSTRY_AS_OF, else
        the latest data date landed."""
        tag = _run_tags(context).get(AS_OF_TAG) or self.configured_as_of
        if tag:
            try:
                return date.fromisoformat(tag)
            except ValueError:
                raise dg.Failure(f"as_of {tag!r} is not a date YYYY-MM-DD") from None
        settings = self.resolved()
        if settings.as_of:
            return settings.as_of
        with self.connect() as con:
            withdrawn = withdrawn_names(con)
        found = landing_as_of(settings.landing, withdrawn)
        if found is None:
            raise dg.Failure(f"no as-of date: no dated deliveries in {settings.landing} and none given")
        return found

    def connect(self) -> duckdb.DuckDBPyConnection:
        path = self.resolved().warehouse
        path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(path), config={"memory_limit": duckdb_memory_limit()})

def _run_tags(context) -> dict:
    """The run's tags; none when an asset or check is invoked directly (unit tests)."""
    try:
        return context.run.tags
    except dg.DagsterError:
        return {}


def _path(value: str):
    from pathlib import Path

    return Path(value).expanduser().resolve() if value else None
