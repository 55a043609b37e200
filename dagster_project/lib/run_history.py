"""Dagster's run history (its event log) in SQLite files under DAGSTER_HOME, as Dagster's own
`SqliteEventLogStorage`, but with each database's connection kept open between events.

Dagster's class opens a new engine and connection for every event it stores and closes them
afterwards. Closing the last connection to a WAL database checkpoints it into the main file, so
each event costs a checkpoint on top of its commit: 5-6 ms. A weekly refresh stores ~750 events
(one per dbt model and test, per check, per log line), 4-5 s of its run time. Here each shard
(one file per run, plus the cross-run index) keeps one open connection, and the WAL is
checkpointed automatically as it grows and when the process ends.

Commits are not flushed to disk one by one (`synchronous=NORMAL` instead of SQLite's FULL): a
flush took 3.6 ms on the development machine, and storing a weekly province refresh's 784 events
took 3.2-3.6 s with them, 2.1-2.2 s without. A commit survives the process being killed; only a
power cut or an OS crash can lose the last events of the run in progress, never corrupt the
file. Nothing the pipeline decides or reports is read from this history: the data, the check
verdicts and the build records are in the warehouse (docs/decisions.md, "Run history storage").

Two things depended on the per-event checkpoint and are kept working:
- the Dagster UI follows a running run by watching its file for changes: with the connection kept
  open, a commit changes the `-wal` file, so the watcher here listens to both;
- `wipe()` deletes run files: the open connections are closed first.

Used through `deploy/dagster.yaml` (`event_log_storage`); run and schedule storage stay Dagster's.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
    SqliteEventLogStorageWatchdog,
)
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from watchdog.observers import Observer

# A refresh writes to two files (its run's and the index); the UI reads a few runs at a time.
# Engines beyond this many are closed, least recently used first.
OPEN_SHARDS = 4


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls) -> dict:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: dict) -> PooledSqliteEventLogStorage:
        """`base_dir` defaults to where Dagster's default storage keeps the event log, so switching
        an existing DAGSTER_HOME to this class keeps its history."""
        base_dir = config_value.get("base_dir") or os.path.join(os.environ["DAGSTER_HOME"], "history", "runs", "")
        return cls(base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is None:
                engine = create_engine(
                    self.conn_string_for_shard(shard),
                    pool_size=1,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
                )
                event.listen(engine, "connect", _flush_at_checkpoints_only)
                self._engines[shard] = engine
                while len(self._engines) > OPEN_SHARDS:
                    self._engines.popitem(last=False)[1].dispose()
            self._engines.move_to_end(shard)
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def close_connections(self) -> None:
        """Close every open connection (checkpointing each WAL into its database file)."""
        with self._db_lock, self._engines_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self.close_connections()
        super().wipe()

    def dispose(self) -> None:
        self.close_connections()
        super().dispose()

    def watch(self, run_id: str, cursor: str | None, callback: Any) -> None:
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _RunFileWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (watchdog, self._obs.schedule(watchdog, self._base_dir, recursive=True))


def _flush_at_checkpoints_only(dbapi_connection: Any, _record: Any) -> None:
    """In WAL mode, NORMAL flushes the log to disk at checkpoints instead of at every commit."""
    dbapi_connection.execute("pragma synchronous = normal")


class _RunFileWatchdog(SqliteEventLogStorageWatchdog):
    """Dagster's watcher of one run's file, also woken by its write-ahead log."""

    def __init__(self, storage: SqliteEventLogStorage, run_id: str, callback: Any, cursor: str | None) -> None:
        super().__init__(storage, run_id, callback, cursor)
        self._patterns = [self._log_path, self._log_path + "-wal"]

    def on_modified(self, event: Any) -> None:
        self._process_log()
