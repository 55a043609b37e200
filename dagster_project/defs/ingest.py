"""Ingestion assets: one multi-asset per feed, one asset key per raw table.

The keys `raw/<feed>_<dataset>` are the keys dagster-dbt gives the dbt
sources, so the dbt staging models hang directly below them.
"""

import dagster as dg

from dagster_project.lib.ingest import FEEDS, datasets_of
from dagster_project.lib.ingest.loader import ingest_feed, record_landing_root
from dagster_project.lib.quality.gx_runner import import_gx_in_background

from .resources import GxSettings

def _feed_asset(feed: str) -> dg.AssetsDefinition:
    datasets = datasets_of(feed)
    specs = [
        dg.AssetSpec(["raw", ds.table], description=f"{ds.description} ({ds.feed} feed, raw text rows)", group_name="raw")
        for ds in datasets
    ]

    @dg.multi_asset(name=f"ingest_{feed}", specs=specs, compute_kind="python")
    def _ingest(context: dg.AssetExecutionContext, settings: GxSettings):
        import_gx_in_background()  # for the check steps that follow; meanwhile this step mostly waits on DuckDB
        landing = settings.resolved().landing
        as_of = settings.as_of(context)
        with settings.connect() as con:
            outcomes = ingest_feed(con, landing, feed, as_of=as_of)
            if feed == FEEDS[0]:  # the landing root belongs to no feed: the first feed's step reports it
                outcomes += record_landing_root(con, landing)
        for o in outcomes:
            if o.status == "refused":
                context.log.error(f"refused {feed}/{o.file_name}: {o.message}")
            elif o.status == "not read":
                context.log.warning(f"not read: {o.file_name}: {o.message}")
            elif o.status in ("withdrawn", "reinstated"):
                context.log.warning(f"{o.status} {feed}/{o.file_name}: {o.message}")
            elif o.status == "loaded":
                context.log.info(
                    f"loaded {feed}/{o.file_name}: {o.rows_read} rows read, {o.rows_accepted} accepted, "
                    f"{o.rows_rejected} rejected{'; ' + o.message if o.message else ''}"
                )
        for ds in datasets:
            mine = [o for o in outcomes if o.dataset == ds.table and o.status == "loaded"]
            yield dg.MaterializeResult(
                asset_key=["raw", ds.table],
                metadata={
                    "files_loaded": len(mine),
                    "files_already_loaded": sum(o.dataset == ds.table and o.status == "skipped" for o in outcomes),
                    "rows_accepted": sum(o.rows_accepted for o in mine),
                    "rows_rejected": sum(o.rows_rejected for o in mine),
                    "files_refused_in_feed": sum(o.status == "refused" for o in outcomes),
                    "not_read_in_feed": sum(o.status == "not read" for o in outcomes),
                    "withdrawn_in_feed": sum(o.status == "withdrawn" for o in outcomes),
                    "landing": str(landing / feed),
                },
            )

    return _ingest

INGEST_ASSETS = [_feed_asset(feed) for feed in FEEDS]
