"""The scheduled build (`trades-warehouse run`): one at a time, all or nothing, on the record.

* One at a time: a session-level PostgreSQL advisory lock keyed on the target
  schema. A second run exits at once with EXIT_LOCKED; a killed run's lock
  dies with its connection.
* All or nothing: dbt builds into shadow schemas (`<target>_build`,
  `<target>_build_marts`...). Only when every model and error-level test has
  passed are they renamed over the live schemas in one transaction, so BI
  readers see either the previous build or the new one, never a mix, and a
  failed or killed run leaves the live marts exactly as they were.
* On the record: every run is a row of `<target>_ops.run_history`, with its
  timing, counts, failures and the source freshness.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from trades_warehouse import dbt_invoke
from trades_warehouse.database import Connection

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_LOCKED = 75  # EX_TEMPFAIL: try again at the next tick


@dataclass
class RunReport:
    exit_code: int
    message: str
    run_id: int | None = None
    freshness: str | None = None
    failures: list[str] = field(default_factory=list)
    elapsed_seconds: float = 0.0


def lock_key(target_schema: str) -> str:
    return f"trades_warehouse:{target_schema}"


def shadow_schema(target_schema: str) -> str:
    return f"{target_schema}_build"


def ops_schema(target_schema: str) -> str:
    return f"{target_schema}_ops"


def _schemas_with_prefix(conn: psycopg.Connection[tuple[object, ...]], base: str) -> list[str]:
    rows = conn.execute(
        "select nspname from pg_namespace where nspname = %s or left(nspname, length(%s) + 1) = %s || '_'",
        (base, base, base),
    ).fetchall()
    return sorted(str(r[0]) for r in rows)


def ensure_history(conn: psycopg.Connection[tuple[object, ...]], target_schema: str) -> None:
    ops = sql.Identifier(ops_schema(target_schema))
    conn.execute(sql.SQL("create schema if not exists {}").format(ops))
    conn.execute(
        sql.SQL(
            """create table if not exists {}.run_history (
                run_id bigserial primary key,
                started_at timestamptz not null default now(),
                finished_at timestamptz,
                status text not null,
                exit_code integer,
                elapsed_seconds numeric,
                nodes_passed integer,
                nodes_warned integer,
                nodes_failed integer,
                failures text[],
                freshness_status text,
                host text,
                pid integer
            )"""
        ).format(ops)
    )


def _count(results: object, statuses: tuple[str, ...]) -> int:
    return sum(1 for r in getattr(results, "results", None) or [] if str(getattr(r, "status", "")) in statuses)


def _freshness_status(outcome: dbt_invoke.DbtOutcome) -> str:
    statuses = [str(getattr(r, "status", "")) for r in getattr(outcome.results, "results", None) or []]
    for worst in ("runtime error", "error", "warn", "pass"):
        if worst in statuses:
            return worst
    return "unknown"


def swap_in(conn: psycopg.Connection[tuple[object, ...]], target_schema: str) -> list[str]:
    """Rename the shadow schemas over the live ones in one transaction; returns the live names."""
    shadow = shadow_schema(target_schema)
    swapped = []
    with conn.transaction():
        # Renames wait behind long BI queries; give up (the run fails and the
        # next tick retries) rather than queue every new reader behind us.
        conn.execute("set local lock_timeout = '30s'")
        retired = f"{target_schema}_retired"
        for old in _schemas_with_prefix(conn, retired):
            conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(old)))
        for built in _schemas_with_prefix(conn, shadow):
            live = target_schema + built[len(shadow):]
            exists = conn.execute("select 1 from pg_namespace where nspname = %s", (live,)).fetchone()
            if exists:
                conn.execute(
                    sql.SQL("alter schema {} rename to {}").format(
                        sql.Identifier(live), sql.Identifier(retired + built[len(shadow):])
                    )
                )
            conn.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(built), sql.Identifier(live)))
            swapped.append(live)
        for old in _schemas_with_prefix(conn, retired):
            conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(old)))
    return swapped


def scheduled_run(
    connection: Connection,
    *,
    source_schema: str,
    target_schema: str,
    target_path: Path,
    say: Callable[[str], None] = print,
) -> RunReport:
    started = time.monotonic()
    lock_conn = connection.connect(autocommit=True)
    try:
        row = lock_conn.execute("select pg_try_advisory_lock(hashtext(%s))", (lock_key(target_schema),)).fetchone()
        if not row or not row[0]:
            return RunReport(EXIT_LOCKED, f"another run is building {target_schema}; this one exits without building")
        ensure_history(lock_conn, target_schema)
        history = sql.Identifier(ops_schema(target_schema), "run_history")
        # We hold the lock, so any run still marked running was killed.
        lock_conn.execute(
            sql.SQL("update {} set status = 'abandoned', finished_at = now() where status = 'running'").format(history)
        )
        run_row = lock_conn.execute(
            sql.SQL("insert into {} (status, host, pid) values ('running', %s, %s) returning run_id").format(history),
            (socket.gethostname(), os.getpid()),
        ).fetchone()
        assert run_row is not None
        run_id = int(str(run_row[0]))
        for leftover in _schemas_with_prefix(lock_conn, shadow_schema(target_schema)):
            lock_conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(leftover)))

        dbt_invoke.apply_environment(connection, source_schema=source_schema, target_schema=shadow_schema(target_schema))
        freshness_outcome = dbt_invoke.run_dbt(["source", "freshness", "--quiet"], target_path=target_path)
        freshness = _freshness_status(freshness_outcome)
        if freshness in ("warn", "error", "runtime error"):
            say(f"warning: source freshness is '{freshness}': the bot may have stopped writing trade_records")

        build = dbt_invoke.run_dbt(["build"], target_path=target_path)
        failures = list(build.failures) + ([build.exception] if build.exception else [])
        succeeded = build.success and not failures
        if succeeded:
            try:
                swap_in(lock_conn, target_schema)
            except psycopg.Error as exc:
                failures.append(f"publishing the build failed, live schemas unchanged: {exc}".strip())
                succeeded = False
        exit_code = EXIT_OK if succeeded else EXIT_FAILED
        elapsed = time.monotonic() - started
        lock_conn.execute(
            sql.SQL(
                "update {} set finished_at = now(), status = %s, exit_code = %s, elapsed_seconds = %s,"
                " nodes_passed = %s, nodes_warned = %s, nodes_failed = %s, failures = %s, freshness_status = %s"
                " where run_id = %s"
            ).format(history),
            (
                "success" if succeeded else "failed",
                exit_code,
                round(elapsed, 3),
                _count(build.results, ("pass", "success")),
                _count(build.results, ("warn",)),
                _count(build.results, ("error", "fail", "runtime error")),
                failures,
                freshness,
                run_id,
            ),
        )
        message = (
            f"run {run_id}: built and published {target_schema}_* in {elapsed:.1f} s"
            if succeeded
            else f"run {run_id}: build failed; live schemas of {target_schema} left as they were"
        )
        return RunReport(exit_code, message, run_id, freshness, failures, elapsed)
    finally:
        lock_conn.close()
