"""A compact progress display for runs started from the command line.

A Dagster logger that prints one line per step and per materialized asset,
and every warning or error, instead of the full debug event stream. Progress inside a long step
is lib/progress_bar.py.
"""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg

_SHOWN = {"STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION"}


class _ProgressHandler(logging.Handler):
    def __init__(self, stream) -> None:
        super().__init__()
        self.stream = stream
        self.started: dict[str, float] = {}
        self.checks: dict[str, list[int]] = {}  # step -> [passed, failed]
        self.t0 = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        clock = f"[{time.monotonic() - self.t0:6.1f}s]"
        if event is None:
            # Info lines (dbt's own log, per-file ingestion notes) stay in the run's event log.
            if record.levelno >= logging.WARNING:
                meta = getattr(record, "dagster_meta", {}) or {}
                text = meta.get("orig_message") or record.getMessage()
                mark = {logging.WARNING: "!", logging.ERROR: "✗", logging.CRITICAL: "✗"}.get(record.levelno, " ")
                self._print(f"{clock} {mark}   {text}")
            return
        kind = event.event_type_value
        if kind not in _SHOWN:
            return
        step = event.step_key or ""
        if kind == "STEP_START":
            self.started[step] = time.monotonic()
            self._print(f"{clock} ▶ {step}")
        elif kind == "STEP_SUCCESS":
            took = time.monotonic() - self.started.get(step, time.monotonic())
            passed, failed = self.checks.get(step, (0, 0))
            checks = f", checks: {passed} passed, {failed} failed" if passed or failed else ""
            self._print(f"{clock} ✓ {step} ({took:.1f}s{checks})")
        elif kind == "STEP_FAILURE":
            error = event.step_failure_data.error
            while error.cause is not None:  # the user code's own exception, not Dagster's wrapper
                error = error.cause
            self._print(f"{clock} ✗ {step} failed: {error.message.strip()}")
        elif kind == "ASSET_MATERIALIZATION":
            self._print(f"{clock}     {event.asset_key.to_user_string()}")
        elif kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            self.checks.setdefault(step, [0, 0])[0 if data.passed else 1] += 1
            if not data.passed:
                why = f": {data.description}" if data.description else ""
                self._print(f"{clock}   ! check {data.asset_key.to_user_string()}:{data.check_name} "
                            f"failed ({data.severity.value}){why}")

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)


@dg.logger(description="One line per step, asset and check; warnings and errors in full.")
def progress_logger(init_context) -> logging.Logger:
    logger = logging.Logger("gxindustry.progress", level=logging.DEBUG)  # step events are DEBUG
    # The terminal itself: while a CLI run is going, sys.stdout is redirected to the run's log file
    # (dbt's own output goes there).
    logger.addHandler(_ProgressHandler(sys.__stdout__))
    return logger
