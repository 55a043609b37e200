"""Named random streams.

Every part of the sample draws from its own stream, seeded by (seed, stream
name, keys). Monthly and weekly draws use the month or delivery date as a key,
so a month's data does not depend on how many months are generated: a run
with an earlier as-of date writes byte-identical files for the months both
runs deliver.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode()), *keys])
