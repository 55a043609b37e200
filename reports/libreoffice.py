"""Headless LibreOffice: recalculate a workbook for real, or print it to PDF (reports/render_check.py).

LibreOffice does not recalculate an .xlsx on load with its default profile (it shows the cached
results). A fresh profile whose `registrymodifications.xcu` sets OOXMLRecalcMode and ODFRecalcMode
to 0 ("always recalculate") makes `--convert-to` recompute every formula first.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    """The LibreOffice executable, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(source: Path, outdir: Path, fmt: str = "xlsx", timeout: int = 120) -> Path:
    """Open `source` in headless LibreOffice with forced recalculation and save it as `fmt` in `outdir`.

    A throw-away profile is used each time, so no user settings interfere and runs can overlap.
    """
    exe = soffice()
    if exe is None:
        raise FileNotFoundError("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc")
    source, outdir = Path(source).resolve(), Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(RECALC_PROFILE, encoding="utf-8")
        result = subprocess.run(
            [exe, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
             "--convert-to", fmt, "--outdir", str(outdir), str(source)],
            capture_output=True, text=True, timeout=timeout,
        )
    target = outdir / f"{source.stem}.{fmt.split(':')[0]}"
    if result.returncode != 0 or not target.is_file():
        raise RuntimeError(f"LibreOffice could not convert {source.name} to {fmt}: {result.stdout}{result.stderr}")
    return target
