"""`gxindustry docs`: dbt's documentation and the Great Expectations Data Docs on one local server.

    <reports>/docs_site/index.html     links to both
    <reports>/docs_site/dbt/           `dbt docs generate --static` (models, tests, lineage, the catalogue
                                       of the warehouse); static_index.html embeds everything it needs
    <reports>/docs_site/data_docs  ->  <reports>/data_docs (the Data Docs site the runs keep)

Nothing in it loads from the internet: dbt's page is self-contained and the Data Docs' styles and
scripts are served from the site itself (lib/quality/offline_docs.py).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from dagster_project.paths import DBT_PROJECT_DIR
from dagster_project.settings import ENV_REPORTS, ENV_WAREHOUSE, Settings

INDEX = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>gxindustry 文档</title>
<style>body{{font-family:sans-serif;max-width:44em;margin:3em auto;line-height:1.6}}a{{color:#1F4E78}}</style></head>
<body><h1>gxindustry 文档</h1>
<ul>
<li><a href="dbt/static_index.html">dbt 文档</a>：模型、字段说明、测试与血缘（仓库 {warehouse}）</li>
<li>{data_docs}</li>
</ul>
<p>生成于本机，不从互联网加载任何内容。</p></body></html>
"""


def build_site(warehouse: Path, reports: Path) -> Path:
    """Generate dbt's docs into `<reports>/docs_site/dbt/` and the index page; returns the site dir."""
    from dagster_project.lib.dbt_invocation import dbt_vars
    from dagster_project.lib.lock import warehouse_lock
    from dagster_project.lib.measures.catalogue import load_catalogue
    from dagster_project.lib.measures.parameters import Parameters

    site = reports / "docs_site"
    target = site / "dbt"
    target.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, **{ENV_WAREHOUSE: str(warehouse)})
    dbt = Path(sys.executable).with_name("dbt")
    vars_ = json.dumps(dbt_vars(Parameters.from_file(load_catalogue(), None)))
    with warehouse_lock(warehouse):  # dbt opens the warehouse; not while a refresh writes it
        result = subprocess.run(
            [str(dbt), "docs", "generate", "--static", "--vars", vars_, "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(target), "--quiet"],
            env=env, capture_output=True, text=True)
    if result.returncode != 0 or not (target / "static_index.html").is_file():
        raise RuntimeError(f"dbt docs generate failed:\n{result.stdout}{result.stderr}")
    data_docs = reports / "data_docs"
    link = site / "data_docs"
    if link.is_symlink() or link.exists():
        link.unlink()
    if (data_docs / "index.html").is_file():
        # relative, so that the reports folder can be copied or moved whole
        link.symlink_to(os.path.relpath(data_docs.resolve(), site.resolve()), target_is_directory=True)
        entry = '<a href="data_docs/index.html">数据质量文档（Great Expectations Data Docs）</a>：各次运行的校验结果'
    else:
        entry = f"数据质量文档：{data_docs} 中尚无 Data Docs（先运行 gxindustry refresh）"
    (site / "index.html").write_text(INDEX.format(warehouse=warehouse, data_docs=entry), encoding="utf-8")
    return site


def serve_docs(args: argparse.Namespace) -> int:
    from dagster_project.lib.lock import WarehouseBusy

    for var, value in ((ENV_WAREHOUSE, args.warehouse), (ENV_REPORTS, args.reports)):
        if value:
            os.environ[var] = str(value)
    settings = Settings.from_env()
    if not settings.warehouse.exists():
        print(f"gxindustry docs: no warehouse at {settings.warehouse} (run `gxindustry refresh` first)", file=sys.stderr)
        return 2
    server = None
    if not args.no_serve:  # the address is taken before the build: a busy port is said at once
        site = settings.reports / "docs_site"
        try:
            server = ThreadingHTTPServer((args.host, args.port), functools.partial(_QuietHandler, directory=str(site)))
        except OSError as exc:
            print(f"gxindustry docs: cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); "
                  "choose another with --port, or --no-serve to build only", file=sys.stderr)
            return 4
    print(f"generating dbt docs for {settings.warehouse} …", flush=True)
    try:
        site = build_site(settings.warehouse, settings.reports)
    except (WarehouseBusy, RuntimeError) as exc:
        if server is not None:
            server.server_close()
        print(f"gxindustry docs: {exc}", file=sys.stderr)
        return 3 if isinstance(exc, WarehouseBusy) else 1
    if server is None:
        print(f"docs site: {site / 'index.html'}")
        return 0
    with server:
        print(f"serving {site} at http://{args.host}:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # one line per request would drown the URL
        pass
