"""The repository stands alone: what the code and docs cite is inside it, and the tests read nothing beside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CITED = re.compile(r"docs/(?:contract|policy)/[\w.\-]+")


def _tracked() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    names = out.stdout.splitlines() if out.returncode == 0 else \
        [str(p.relative_to(REPO)) for p in REPO.rglob("*") if p.is_file() and ".venv" not in p.parts]
    return [REPO / n for n in names if n.endswith((".py", ".sql", ".yml", ".yaml", ".md", ".sh", ".toml"))]


def test_contract_and_policy_pages_are_in_docs():
    for name in ("contract/FEEDS.md", "contract/MEASURES.md", "contract/OUTPUTS.md",
                 "policy/gx-2024q4-industrial-measures.zh.txt"):
        assert (REPO / "docs" / name).is_file(), name


def test_every_cited_contract_page_exists():
    missing = {(str(path.relative_to(REPO)), ref) for path in _tracked() if path.is_file()
               for ref in CITED.findall(path.read_text(encoding="utf-8", errors="replace"))
               if not (REPO / ref.rstrip(".")).is_file()}
    assert not missing


def test_tests_read_nothing_outside_the_repository():
    outside = re.compile(r"parents\[[2-9]\]|\.\./shared|/work/shared")
    offenders = [p.name for p in (REPO / "tests").glob("*.py")
                 if p.name != Path(__file__).name and outside.search(p.read_text(encoding="utf-8"))]
    assert not offenders


def test_dg_reads_the_project_configuration():
    """The README's UI command is `dg dev`: dg must accept pyproject.toml's `tool.dg` tables (it
    refuses them when they are not contiguous, and `dg dev` then stops with a traceback)."""
    from dagster_dg_core.config import discover_and_validate_config_files

    result = discover_and_validate_config_files(REPO)
    assert result.root_path == REPO
