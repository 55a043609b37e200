"""The tables the Python steps write (the forecast, the measures), with what each holds.

Declared once, in dbt_models/models/python_outputs.yml, as dbt sources: dbt's docs list them with
their columns (read from the warehouse) and the exposures show which marts feed them; the Dagster
assets of defs/forecast.py and defs/measures.py take their names and descriptions from there.
"""

from __future__ import annotations

import yaml

from dagster_project.paths import DBT_PROJECT_DIR

DECLARATIONS = DBT_PROJECT_DIR / "models" / "python_outputs.yml"


def described(source: str) -> dict[str, str]:
    """table -> description, of one source of the declarations (`forecast`, `measures`)."""
    document = yaml.safe_load(DECLARATIONS.read_text(encoding="utf-8"))
    [declared] = [s for s in document["sources"] if s["name"] == source]
    return {t["name"]: " ".join(t["description"].split()) for t in declared["tables"]}
