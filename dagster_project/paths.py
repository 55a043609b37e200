"""Where the project's own files live (the repo is installed in editable mode)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_models"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
# The backtest's scores (`gxindustry backtest --out docs/backtest`): what the budget workbook's 预测方法 sheet cites.
BACKTEST_CSV = PROJECT_ROOT / "docs" / "backtest" / "backtest.csv"
