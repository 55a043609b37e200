#!/usr/bin/env bash
# Sets up a fresh clone: uv (pinned), the locked environment in .venv, the dbt manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
# `python3 -m uv` works whether or not pip's script directory is on PATH.
if [ "$(python3 -m uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
# Bytecode compiled at install: imports are twice as slow without it when PYTHONDONTWRITEBYTECODE is set.
python3 -m uv sync --frozen --compile-bytecode --quiet
.venv/bin/gxindustry prepare
