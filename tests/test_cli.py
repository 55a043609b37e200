"""The command line: clear refusals before anything runs."""

import subprocess
import sys
from pathlib import Path

GXINDUSTRY = str(Path(sys.executable).with_name("gxindustry"))


def run(*args, env_home: Path) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([GXINDUSTRY, *args], capture_output=True, text=True,
                          env=dict(os.environ, DAGSTER_HOME=str(env_home)))


def test_refresh_refuses_an_unknown_parameter_id(tmp_path):
    (tmp_path / "landing" / "power").mkdir(parents=True)
    (tmp_path / "landing" / "power" / "power_daily_20241125.csv").write_text("用电户号,日期,用电量_千瓦时,数据标志\n")
    params = tmp_path / "finance.yaml"
    params.write_text("M02.rat: 2\n", encoding="utf-8")
    result = run("refresh", "--landing", str(tmp_path / "landing"), "--warehouse", str(tmp_path / "wh.duckdb"),
                 "--params", str(params), env_home=tmp_path)
    assert result.returncode == 2
    assert "finance.yaml: unknown parameter id 'M02.rat'" in result.stderr
    assert not (tmp_path / "wh.duckdb").exists()


def test_refresh_without_deliveries_says_what_to_do(tmp_path):
    result = run("refresh", "--landing", str(tmp_path / "empty"), "--warehouse", str(tmp_path / "wh.duckdb"),
                 env_home=tmp_path)
    assert result.returncode == 2 and "gxindustry generate" in result.stderr


def test_generate_refuses_to_overwrite_deliveries(tmp_path):
    assert run("generate", "--landing", str(tmp_path), "--scale", "tiny", env_home=tmp_path).returncode == 0
    again = run("generate", "--landing", str(tmp_path), "--scale", "tiny", env_home=tmp_path)
    assert again.returncode == 2 and "gxindustry generate:" in again.stderr
