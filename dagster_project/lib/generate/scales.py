"""Sample sizes. Planted rule cases (cases.py) are included in the counts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    above_size: int  # 规上 enterprises (including those that enter in 2024)
    near_size: int  # tracked 临规 enterprises
    projects: int  # projects in the investment library over the window
    power_accounts: int  # metering accounts, including unmatched and non-directory ones
    lines_per_exporter_month: float  # customs declaration lines of a typical exporter
    registers: float  # register volume relative to the province (recognitions, loans, ...)


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale("tiny", above_size=50, near_size=10, projects=26, power_accounts=90,
              lines_per_exporter_month=3, registers=0.01),
        Scale("small", above_size=1200, near_size=300, projects=300, power_accounts=1800,
              lines_per_exporter_month=5, registers=0.12),
        Scale("province", above_size=10_000, near_size=3_000, projects=3_000, power_accounts=15_000,
              lines_per_exporter_month=12, registers=1.0),
        Scale("national", above_size=100_000, near_size=30_000, projects=30_000, power_accounts=150_000,
              lines_per_exporter_month=12, registers=10.0),
    )
}


def get_scale(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; choose one of {', '.join(SCALES)}") from None
