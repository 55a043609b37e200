"""One refresh at a time per warehouse: DuckDB has one writer, and a second refresh must not
interleave with the first. The lock is an advisory lock on `<warehouse>.lock`, released by the
kernel when the holder dies, so a killed run never leaves a stale lock behind."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class WarehouseBusy(RuntimeError):
    pass


@contextlib.contextmanager
def warehouse_lock(warehouse: Path) -> Iterator[None]:
    path = warehouse.with_name(warehouse.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="ascii") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise WarehouseBusy(
                f"another refresh is running on {warehouse} (pid {holder}); wait for it to finish and run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
