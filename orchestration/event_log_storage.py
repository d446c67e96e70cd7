"""Dagster's SQLite event log, kept open between events (dagster_home/dagster.yaml selects it).

A refresh writes about a thousand events (each model's materialization, each dbt test's check
result, and the planned events for both). Dagster's own SQLite storage makes a new engine for
every event and closes it after one insert; closing the last connection to a WAL database
checkpoints it, and every commit syncs the disk. py-spy put that at a quarter of a small run's
time. This storage keeps one connection per database file open (Dagster already serializes
their use in a process with its lock) and commits without a sync per event (`synchronous =
NORMAL`, which in WAL mode keeps the database consistent; a power cut can lose the last events,
never corrupt the file). The files, their place under DAGSTER_HOME and their schema are
Dagster's own: the webserver and the daemon read them as before.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as db
from dagster import StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy.pool import StaticPool

# Open database files kept per process: the index, the running run's file and a few more (the
# webserver reads many runs; each one beyond these is closed again).
OPEN_FILES = 8


def _fast_commits(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


class KeptOpenSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage with one open connection per database file (see the module)."""

    def __init__(self, dagster_home: str, inst_data=None) -> None:
        self._engines: OrderedDict[str, db.engine.Engine] = OrderedDict()
        # Where Dagster's default storage keeps the event log, so a home keeps its history.
        super().__init__(os.path.join(dagster_home, "history", "runs"), inst_data=inst_data)

    @classmethod
    def config_type(cls) -> dict:
        return {"dagster_home": StringSource}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> KeptOpenSqliteEventLogStorage:
        # The parent class builds a SqliteEventLogStorage here whatever the subclass.
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> db.engine.Engine:
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = db.create_engine(
            self.conn_string_for_shard(shard),
            poolclass=StaticPool,
            # The one connection is used under self._db_lock, from whichever thread holds it.
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        db.event.listen(engine, "connect", _fast_commits)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        while len(self._engines) > OPEN_FILES:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[db.engine.Connection]:
        with self._db_lock, self._engine(shard).connect() as conn, conn.begin():
            yield conn

    def _close_all(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._close_all()  # the files are deleted
        super().wipe()

    def dispose(self) -> None:
        self._close_all()
        super().dispose()
