"""Alerts for failed runs: a JSON line in `<warehouse dir>/logs/alerts.log`, and an optional
command a deployment points at mail or chat (`GXINDUSTRY_ALERT_COMMAND`, run with the alert's
text on standard input)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

ENV_ALERT_COMMAND = "GXINDUSTRY_ALERT_COMMAND"


@dataclass(frozen=True)
class Alert:
    run_id: str
    job: str
    as_of: str | None
    failed_steps: list[str]
    failed_checks: list[str] = field(default_factory=list)
    error: str = ""
    raised_at: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))

    @property
    def text(self) -> str:
        lines = [f"gxindustry: run {self.run_id} of {self.job} (as of {self.as_of or '?'}) FAILED",
                 f"failed steps: {', '.join(self.failed_steps) or 'none recorded'}"]
        if self.failed_checks:
            lines.append(f"failed blocking checks: {', '.join(self.failed_checks)}")
        if self.error:
            lines.append(f"error: {self.error}")
        return "\n".join(lines)


def raise_alert(alert: Alert, log_dir: Path) -> Path:
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "alerts.log"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(alert), ensure_ascii=False) + "\n")
    command = os.environ.get(ENV_ALERT_COMMAND)
    if command:
        subprocess.run(command, shell=True, input=alert.text, text=True, timeout=60, check=False)
    return path


def alerts_since(log_dir: Path, since: datetime | None, limit: int = 3) -> list[Alert]:
    """The latest `limit` alerts of `<log_dir>/alerts.log` raised after `since` (all when None),
    newest first; a line that is not an alert is skipped."""
    try:
        lines = (log_dir / "alerts.log").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found = []
    for line in reversed(lines):
        try:
            alert = Alert(**json.loads(line))
            raised = datetime.fromisoformat(alert.raised_at)
        except (ValueError, TypeError):
            continue
        if since is not None and raised <= since:
            break
        found.append(alert)
        if len(found) == limit:
            break
    return found
