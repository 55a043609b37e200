"""Data-quality checks: the expectation suites of `expectations/` as Dagster asset checks.

Each suite gives up to two checks on its asset: `<suite>_blocking` (blocking=True, severity ERROR:
when it fails, nothing downstream of the asset runs in that run -- dbt is not built on broken raw
data, the budget is not recomputed on broken marts, the workbooks are not rewritten from broken
awards) and `<suite>_warning` (severity WARN, reported only). The suites run in three steps, one
per layer, so that each layer is checked before the next one starts:

    ingest_* -> gx_raw_checks -> dbt (warehouse_models) -> gx_mart_checks -> policy_measures
             -> gx_measure_checks -> policy_run_record -> (workbooks)

Great Expectations is imported inside the steps (it takes seconds), one ephemeral context per run
shared by the run's check steps, so that the Data Docs site in `<reports>/data_docs/` shows the
whole run. Every expectation result is appended to `marts.dq_check_results`.
"""


import json
from pathlib import Path

import dagster as dg

from dagster_project.lib.quality.suites import Suite, load_suites
from dagster_project.lib.quality.warehouse import LATEST_VIEW, RESULTS_TABLE, standing_failures

from .measures import OUTPUTS as MEASURE_OUTPUTS
from .resources import GxSettings

SUITES = load_suites()
_MEASURE_ASSETS = {f"marts/{name}" for name in MEASURE_OUTPUTS}
RAW_SUITES = [s for s in SUITES if s.asset.startswith("raw/")]
MEASURE_SUITES = [s for s in SUITES if s.asset in _MEASURE_ASSETS]
MART_SUITES = [s for s in SUITES if s not in RAW_SUITES and s not in MEASURE_SUITES]

MAX_LOG_LINES = 12  # failing expectations written to the run log (and the CLI) per step
MAX_TABLE_ROWS = 25  # failing expectations listed in a check's metadata

_SESSIONS: dict[str, object] = {}  # run id -> GxSession (the in-process executor runs one run at a time)


def _severity(severity: str) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if severity == "blocking" else dg.AssetCheckSeverity.WARN


def _specs(suites: list[Suite]) -> list[dg.AssetCheckSpec]:
    specs = []
    for suite in suites:
        for severity in suite.severities:
            names = ", ".join(e.name for e in suite.of_severity(severity))
            specs.append(
                dg.AssetCheckSpec(
                    name=suite.check_name(severity),
                    asset=dg.AssetKey(suite.asset_path),
                    blocking=severity == "blocking",
                    description=(f"{'Blocking' if severity == 'blocking' else 'Warning'} expectations of "
                                 f"expectations/{suite.name}.yml: {names}"),
                    additional_deps=[dg.AssetKey(d.split("/")) for d in suite.deps],
                    metadata={"suite": f"expectations/{suite.name}.yml", "severity": severity},
                )
            )
    return specs


def _session(run_id: str, docs_dir: Path):
    from dagster_project.lib.quality.gx_runner import GxSession

    if run_id not in _SESSIONS:
        _SESSIONS.clear()
        _SESSIONS[run_id] = GxSession(run_id, docs_dir)
    return _SESSIONS[run_id]


def _run(context: dg.AssetCheckExecutionContext, settings: GxSettings, suites: list[Suite]):
    from dagster_project.lib.quality.run import validate_suites

    selected = context.selected_asset_check_keys
    wanted = [s for s in suites
              if any(dg.AssetCheckKey(dg.AssetKey(s.asset_path), s.check_name(sev)) in selected for sev in s.severities)]
    as_of = settings.as_of(context)
    resolved = settings.resolved()
    session = _session(context.run.run_id, resolved.reports / "data_docs")
    with settings.connect() as con:
        results = validate_suites(con, wanted, as_of, session, context.run.run_id)
        standing = standing_failures(con, as_of)
    try:
        docs = session.build_docs()
    except OSError as exc:  # the report of the checks, not their outcome: the run goes on
        docs = None
        context.log.warning(f"Data Docs not written ({exc}); nothing of this build is left in "
                            f"{resolved.reports / 'data_docs'}; the results are in {RESULTS_TABLE}")
    _log_failures(context, results)
    for result in results:
        suite = result.suite
        for severity in suite.severities:
            key = dg.AssetCheckKey(dg.AssetKey(suite.asset_path), suite.check_name(severity))
            if key not in selected:
                continue
            failures = result.failures(severity)
            batches = len(result.batches)
            what = f"{batches} file(s)" if suite.batch == "file" else "1 batch"
            description = (f"{len(failures)} {severity} expectation(s) not met in {what}" if failures
                           else f"all {severity} expectations met in {what}")
            # A warning on a file validated by an earlier run stands while the file is delivered:
            # a rerun that finds nothing new must not turn the check green (blocking failures are
            # validated again in every run, so they are among this run's batches already).
            earlier = []
            if suite.batch == "file" and severity == "warning":
                validated_now = {b.name for b in result.batches}
                earlier = [f for f in standing.get(key.name, (0, [], None))[1] if f not in validated_now]
            if earlier:
                description += (f"; {len(earlier)} earlier file(s) still with warnings, as last validated: "
                                + ", ".join(earlier[:5]) + (" …" if len(earlier) > 5 else ""))
            metadata = _metadata(result, severity, as_of, docs, context.run.run_id, key.name)
            if earlier:
                metadata["earlier_files_with_warnings"] = dg.MetadataValue.text(", ".join(earlier))
            yield dg.AssetCheckResult(
                asset_key=key.asset_key,
                check_name=key.name,
                passed=not failures and not earlier,
                severity=_severity(severity),
                description=description,
                metadata=metadata,
            )


def _metadata(result, severity: str, as_of, docs: Path | None, run_id: str, check_name: str) -> dict:
    suite = result.suite
    outcomes = result.outcomes(severity)
    failures = result.failures(severity)
    meta: dict = {
        "as_of": str(as_of),
        "suite": f"expectations/{suite.name}.yml",
        "batches_validated": len(result.batches),
        "expectations_evaluated": len(outcomes),
        "expectations_not_met": len(failures),
        "results": dg.MetadataValue.text(
            f"select * from {RESULTS_TABLE} where run_id = '{run_id}' and check_name = '{check_name}'"
        ),
    }
    if suite.batch == "file":
        names = [b.name for b in result.batches]
        meta["files"] = dg.MetadataValue.text(", ".join(names[:40]) + (f" … (+{len(names) - 40})" if len(names) > 40 else "")
                                              if names else "no new deliveries to validate")
        if result.cleared:
            meta["cleared_by_later_deliveries"] = dg.MetadataValue.text(", ".join(result.cleared))
    else:
        meta["rows"] = result.batches[0].rows if result.batches else 0
    if docs is not None:
        meta["data_docs"] = dg.MetadataValue.path(str(docs))
    rows = []
    for batch, o in failures[:MAX_TABLE_ROWS]:
        examples = json.dumps(o.unexpected_examples[:3], ensure_ascii=False, default=str)
        rows.append(f"| {batch.name} | {o.expectation} | {_cell(o.label)} | {_cell(o.observed_value)} | {_cell(examples)} |")
    if rows:
        more = f"\n\n… {len(failures) - MAX_TABLE_ROWS} more in {RESULTS_TABLE}" if len(failures) > MAX_TABLE_ROWS else ""
        meta["not_met"] = dg.MetadataValue.md(
            "| batch | expectation | label | observed | examples |\n|---|---|---|---|---|\n" + "\n".join(rows) + more
        )
    elif suite.batch != "file" or result.batches:
        meta["observed"] = dg.MetadataValue.md(
            "| batch | expectation | observed |\n|---|---|---|\n"
            + "\n".join(f"| {b.name} | {o.expectation} | {_cell(o.observed_value)} |"
                        for b in result.batches[:3] for o in b.outcomes if o.severity == severity)
        )
    return meta


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")[:300]


def _log_failures(context, results) -> None:
    """Blocking failures one line each (observed value and an example), warnings one line per suite."""
    blocking = [(result, batch, o) for result in results for batch, o in result.failures("blocking")]
    for result, batch, o in blocking[:MAX_LOG_LINES]:
        text = f"BLOCKING {result.suite.asset} {batch.name}: {o.expectation} ({o.label}) -- {o.observed_value}"
        if o.unexpected_examples:
            text += f"; e.g. {json.dumps(o.unexpected_examples[0], ensure_ascii=False, default=str)[:200]}"
        context.log.error(text)
    if len(blocking) > MAX_LOG_LINES:
        context.log.error(f"… and {len(blocking) - MAX_LOG_LINES} more blocking: "
                          f"select * from {LATEST_VIEW} where outcome = 'fail'")
    for result in results:
        warnings = result.failures("warning")
        if warnings:
            counts: dict[str, int] = {}
            for _, o in warnings:
                counts[o.expectation] = counts.get(o.expectation, 0) + 1
            batches = len({b.name for b, _ in warnings})
            what = ", ".join(f"{name} ×{n}" if n > 1 else name for name, n in counts.items())
            context.log.warning(f"warning {result.suite.asset} ({result.suite.name}, {batches} batch(es)): {what}")


def _check_step(name: str, suites: list[Suite], description: str) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(name=name, specs=_specs(suites), can_subset=True, compute_kind="great_expectations",
                          description=description)
    def _checks(context: dg.AssetCheckExecutionContext, settings: GxSettings):
        yield from _run(context, settings, suites)

    return _checks


gx_raw_checks = _check_step(
    "gx_raw_checks", RAW_SUITES,
    "GX suites on the raw layer, one batch per delivered file not validated yet (and per file still failing)",
)
gx_mart_checks = _check_step("gx_mart_checks", MART_SUITES, "GX suites on the key marts, one batch per mart or check query")
gx_measure_checks = _check_step("gx_measure_checks", MEASURE_SUITES, "GX suites on the evaluated awards")

ASSET_CHECKS = [gx_raw_checks, gx_mart_checks, gx_measure_checks]
