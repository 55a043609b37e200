"""Progress inside a long step (files done of total, rows/s, ETA), drawn by tqdm on the terminal."""

from __future__ import annotations

import sys
import time


def progress_bar(total: int, desc: str, unit: str = "file"):
    """A tqdm bar on the terminal the run was started from (stderr; a CLI run sends stdout to its log).

    On a terminal it redraws in place and disappears when done; otherwise (a log file, the daemon)
    it writes a plain line every 10 s and a last one at the end. `advance(rows)` counts one unit and
    its rows, shown as rows/s beside tqdm's count, rate and ETA."""
    from tqdm import tqdm

    stream = sys.__stderr__
    tty = bool(stream is not None and stream.isatty())
    bar = tqdm(total=total, desc=desc, unit=unit, file=stream, disable=stream is None, leave=not tty,
               mininterval=0.5 if tty else 10, dynamic_ncols=tty, ascii=not tty)
    return _RowCounter(bar)


class _RowCounter:
    def __init__(self, bar) -> None:
        self.bar = bar
        self.rows = 0
        self.t0 = time.monotonic()

    def advance(self, rows: int = 0) -> None:
        self.rows += rows
        elapsed = time.monotonic() - self.t0
        if elapsed > 0:
            self.bar.set_postfix_str(f"{self.rows / elapsed:,.0f} rows/s", refresh=False)
        self.bar.update(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()
