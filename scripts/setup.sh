#!/usr/bin/env bash
# Sets up a fresh clone: uv (pinned), the locked environment in .venv, the dbt manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
# Bytecode compiled at install: imports are twice as slow without it when PYTHONDONTWRITEBYTECODE is set.
uv sync --frozen --compile-bytecode --quiet
.venv/bin/gxindustry prepare
