"""Where workbooks go, and writing them so that a reader never sees half a file.

`<reports>/<as_of>/<name>`: one folder per as-of date; folders of earlier dates are never
touched. A workbook is written to a hidden temporary file in the same folder, checked to be a
complete zip archive, then renamed over the final name (atomic on POSIX and Windows); on any
failure the temporary file is removed and the previous workbook, if any, stays as it was. A writer
killed outright (SIGKILL, power loss) cannot remove its temporary file: the next write of the same
workbook does, so a rerun leaves the folder as a clean run would.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path


def as_of_dir(reports_dir: Path, as_of: date) -> Path:
    return Path(reports_dir) / as_of.isoformat()


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path next to `final`; rename it to `final` only if the block completes."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(final)
    tmp = final.with_name(f".{final.stem}.partial-{os.getpid()}{final.suffix}")
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
        if not tmp.is_file():
            raise RuntimeError(f"nothing was written for {final.name}")
        with zipfile.ZipFile(tmp) as archive:  # an .xlsx is a zip: refuse a truncated one
            bad = archive.testzip()
        if bad is not None:
            raise RuntimeError(f"{final.name}: member {bad} is corrupt")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _remove_abandoned(final: Path) -> None:
    """Delete the temporary files of earlier writers of `final` whose process is gone."""
    prefix = f".{final.stem}.partial-"
    for leftover in final.parent.glob(f"{prefix}*{final.suffix}"):
        pid = leftover.name[len(prefix):-len(final.suffix)]
        if pid.isdigit() and not _running(int(pid)):
            leftover.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
