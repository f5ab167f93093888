"""The scheduled build (`trades-warehouse run`): one at a time, all or nothing, on the record.

* One at a time: a session-level PostgreSQL advisory lock keyed on the target
  schema. A second run exits at once with EXIT_LOCKED; a killed run's lock
  dies with its connection.
* All or nothing: dbt builds into shadow schemas (`<target>_build`,
  `<target>_build_marts`...). Only when every model and error-level test has
  passed are they renamed over the live schemas in one transaction, so BI
  readers see either the previous build or the new one, never a mix, and a
  failed or killed run leaves the live marts exactly as they were.
* Incremental all the same: the swap keeps the schemas it replaced as the
  next run's shadows (the live copy and the spare trade places), so each run
  builds on a complete earlier build and dbt's incremental models recompute
  only the symbols whose fills changed since that copy was built (each
  incremental model records, with its rows, the fingerprints it was built
  from, so a copy two runs behind simply catches up two runs of changes).
  A shadow holding anything this build would not make is dropped and built
  afresh instead.
* Only its own schemas: the schemas a build makes come from dbt's manifest
  (not from a name prefix). The run creates the shadow schemas itself, each
  with the comment `trades_warehouse managed: <target>`, which follows them
  when renamed live and retired. It drops only schemas bearing that mark, and
  renames a live schema away only when everything in it is a relation this
  build makes there or the last publication recorded there. Otherwise, or
  when the source schema is one of these names, it refuses (EXIT_REFUSED)
  before renaming or dropping anything.
* Code checked once: dbt's unit tests depend on the project's code only, not
  on the data. A run whose code (models, tests, macros, seeds, project file
  and dbt version: `code_fingerprint`) equals that of the last successful run
  leaves them out; the first run after any change, and CI, run them all.
* On the record: every run is a row of `<target>_ops.run_history`, with its
  timing, counts, failures and the source freshness. The swap transaction
  also writes the run's row of `<target>_ops.publications`, so a run killed
  after publishing but before updating its history is told apart from one
  that published nothing.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from trades_warehouse import dbt_invoke
from trades_warehouse.database import Connection
from trades_warehouse.exit_codes import ExitCode
from trades_warehouse.paths import project_dir

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest

EXIT_OK = ExitCode.OK
EXIT_FAILED = ExitCode.FAILED
EXIT_REFUSED = ExitCode.REFUSED  # the run would replace a schema that is not the warehouse's own
EXIT_LOCKED = ExitCode.LOCKED  # EX_TEMPFAIL: try again at the next tick

PgConnection = psycopg.Connection[tuple[object, ...]]


class Refused(Exception):
    """Going on would create, rename or drop a schema that is not the warehouse's own."""


@dataclass
class RunReport:
    exit_code: int
    message: str
    run_id: int | None = None
    freshness: str | None = None
    failures: list[str] = field(default_factory=list)
    elapsed_seconds: float = 0.0


# The per-symbol incremental models keep, beside them, the fingerprints they
# were built from (macros/incremental_by_symbol.sql names both).
SYMBOL_INCREMENTAL_STRATEGY = "replace_changed_symbols"
SYMBOL_STATE_TABLE = "incremental_symbol_state"
# The by-order incremental staging model keeps, beside it, what its build read
# and the order ids it retyped (the suffixes of raw_orders_read_identifier and
# changed_orders_relation in macros/incremental_by_order.sql), and its test
# marks (unverified_orders_relation, verified_order_tests_relation in
# macros/verified_orders.sql), and the log of the symbols it changed
# (changed_symbols_relation, read by int_fill_fingerprints).
ORDER_INCREMENTAL_STRATEGY = "replace_changed_orders"
ORDER_STATE_SUFFIXES = ("__raw_read", "__retyped_ids", "__unverified_ids", "__verified_tests", "__changed_symbols")


def lock_key(target_schema: str) -> str:
    return f"trades_warehouse:{target_schema}"


def shadow_schema(target_schema: str) -> str:
    return f"{target_schema}_build"


def retired_schema(target_schema: str) -> str:
    return f"{target_schema}_retired"


def ops_schema(target_schema: str) -> str:
    return f"{target_schema}_ops"


def schema_mark(target_schema: str) -> str:
    """The comment on every schema the run creates for ``target_schema``."""
    return f"trades_warehouse managed: {target_schema}"


def _under(name: str, base: str) -> bool:
    return name == base or name.startswith(base + "_")


def check_source(source_schema: str, target_schema: str) -> None:
    """Refuse a source schema that `run` would write, rename or drop under any of its names."""
    families = (shadow_schema(target_schema), retired_schema(target_schema))
    if source_schema in (target_schema, ops_schema(target_schema)) or any(_under(source_schema, f) for f in families):
        raise Refused(
            f"source schema {source_schema} is a name `run` manages for target {target_schema}; "
            "set TRADES_TARGET_SCHEMA to a name clear of it"
        )


@dataclass(frozen=True)
class Plan:
    """What one build makes: each shadow schema with the relations dbt creates in it."""

    target_schema: str
    relations: Mapping[str, frozenset[str]]

    def _suffix(self, shadow: str) -> str:
        return shadow[len(shadow_schema(self.target_schema)):]

    def live(self, shadow: str) -> str:
        return self.target_schema + self._suffix(shadow)

    def retired(self, shadow: str) -> str:
        return retired_schema(self.target_schema) + self._suffix(shadow)


def plan_build(manifest: Manifest, *, source_schema: str, target_schema: str) -> Plan:
    """The build's schemas as dbt resolved them (parsed with the shadow as target), checked."""
    relations: dict[str, set[str]] = {}
    for node in manifest.nodes.values():
        if node.is_relational and not node.is_ephemeral_model:  # dbt's own test for "creates a schema"
            relations.setdefault(node.schema, set()).add(node.alias)
            strategy = getattr(node.config, "incremental_strategy", None)
            if strategy == SYMBOL_INCREMENTAL_STRATEGY:
                relations[node.schema].add(SYMBOL_STATE_TABLE)
            elif strategy == ORDER_INCREMENTAL_STRATEGY:
                relations[node.schema].update(node.alias + suffix for suffix in ORDER_STATE_SUFFIXES)
    plan = Plan(target_schema, {schema: frozenset(names) for schema, names in relations.items()})
    shadow, retired = shadow_schema(target_schema), retired_schema(target_schema)
    for built in plan.relations:
        live = plan.live(built)
        if not _under(built, shadow) or any(_under(live, f) for f in (shadow, retired, ops_schema(target_schema))):
            raise Refused(f"dbt would build into {built}, which `run` cannot publish as a schema of {target_schema}")
        if source_schema in (built, live):
            raise Refused(f"the build would replace the source schema {source_schema}: move TRADES_TARGET_SCHEMA")
    return plan


def _schemas(conn: PgConnection) -> dict[str, str | None]:
    """Every schema with its comment."""
    rows = conn.execute("select nspname, obj_description(oid, 'pg_namespace') from pg_namespace").fetchall()
    return {str(name): None if comment is None else str(comment) for name, comment in rows}


def _foreign_objects(conn: PgConnection, schema: str, allowed: Set[str]) -> list[str]:
    """Relations, functions and types in ``schema`` other than ``allowed``: what a drop would lose."""
    rows = conn.execute(
        """select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = %(s)s and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S', 'c')
        union all
        select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = %(s)s
        union all
        select t.typname from pg_type t join pg_namespace n on n.oid = t.typnamespace
            where n.nspname = %(s)s and t.typtype in ('d', 'e', 'r', 'm')""",
        {"s": schema},
    ).fetchall()
    return sorted(str(name) for (name,) in rows if str(name) not in allowed)


def _drop(conn: PgConnection, schema: str) -> None:
    conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))


def _rename(conn: PgConnection, old: str, new: str) -> None:
    conn.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(old), sql.Identifier(new)))


def prepare_shadows(conn: PgConnection, plan: Plan) -> list[str]:
    """Make every shadow schema of the plan ready to build into; returns those kept from earlier runs.

    A marked shadow holding only relations this build makes (the spare copy
    an earlier swap left, or what a killed run built) is kept: dbt's
    incremental models continue from it. Any other marked shadow or retired
    schema is dropped; a missing shadow is created, marked."""
    target = plan.target_schema
    families = (shadow_schema(target), retired_schema(target))
    kept: list[str] = []
    for name, comment in _schemas(conn).items():
        if comment != schema_mark(target) or not any(_under(name, f) for f in families):
            continue
        if name in plan.relations and not _foreign_objects(conn, name, plan.relations[name]):
            kept.append(name)
        else:
            _drop(conn, name)
    existing = _schemas(conn)
    for shadow in plan.relations:
        for name in (shadow, plan.retired(shadow)):
            if name in existing and name not in kept:
                raise Refused(f"schema {name} exists and is not one `run` made: rename or drop it yourself")
    for shadow in sorted(set(plan.relations) - set(kept)):
        with conn.transaction():  # never a shadow schema without its mark
            conn.execute(sql.SQL("create schema {}").format(sql.Identifier(shadow)))
            _mark(conn, shadow, target)
    return sorted(kept)


def _mark(conn: PgConnection, schema: str, target_schema: str) -> None:
    conn.execute(
        sql.SQL("comment on schema {} is {}").format(sql.Identifier(schema), sql.Literal(schema_mark(target_schema)))
    )


def ensure_history(conn: PgConnection, target_schema: str) -> None:
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
    # Columns added after the table's first release.
    conn.execute(sql.SQL("alter table {}.run_history add column if not exists code_fingerprint text").format(ops))
    conn.execute(sql.SQL("alter table {}.run_history add column if not exists unit_tests text").format(ops))
    # One row per swap, written in the swap's own transaction: the evidence
    # that a run published, and what it published (live schema -> relations).
    conn.execute(
        sql.SQL(
            """create table if not exists {}.publications (
                run_id bigint primary key,
                published_at timestamptz not null default now(),
                relations jsonb not null
            )"""
        ).format(ops)
    )


def settle_killed_runs(conn: PgConnection, target_schema: str) -> None:
    """Close the rows of killed runs (we hold the lock, so any row still 'running' is one):
    'published_unrecorded' when its swap committed, else 'abandoned'."""
    conn.execute(
        sql.SQL(
            "update {} h set finished_at = now(), status = case when exists"
            " (select 1 from {} p where p.run_id = h.run_id) then 'published_unrecorded' else 'abandoned' end"
            " where status = 'running'"
        ).format(
            sql.Identifier(ops_schema(target_schema), "run_history"),
            sql.Identifier(ops_schema(target_schema), "publications"),
        )
    )


def _count(results: object, statuses: tuple[str, ...]) -> int:
    return sum(1 for r in getattr(results, "results", None) or [] if str(getattr(r, "status", "")) in statuses)


# dbt's age of a source with no row at all: loaded at 0001-01-01 ("infinitely long ago").
_NEVER_LOADED_AGE = "extract(epoch from current_timestamp - '0001-01-01 00:00:00+00'::timestamptz)::float8"


def source_freshness(conn: PgConnection, manifest: Manifest) -> str:
    """The verdict of `dbt source freshness`, worst over the sources: pass, warn, error or runtime error.

    Each source's age is dbt's own query (the latest `loaded_at_field` within
    its freshness `filter`, against the database clock) and the verdict is
    dbt's own rule (the source's thresholds, `FreshnessThreshold.status`),
    both taken from the parsed manifest. Asked on the run's connection rather
    than through a second dbt invocation, which cost 0.7-0.8 s of every
    five-minute run for one aggregate."""
    statuses: list[str] = []
    for source in manifest.sources.values():
        threshold = source.freshness
        if not threshold or not source.loaded_at_field:
            continue
        query = sql.SQL("select coalesce(extract(epoch from current_timestamp - max({}))::float8, {}) from {}").format(
            sql.SQL(source.loaded_at_field), sql.SQL(_NEVER_LOADED_AGE), sql.SQL(source.relation_name or "")
        )
        if threshold.filter:
            query = sql.SQL("{} where {}").format(query, sql.SQL(threshold.filter))
        try:
            row = conn.execute(query).fetchone()
        except psycopg.Error:
            statuses.append("runtime error")
            continue
        age = float(str(row[0])) if row else float("inf")
        statuses.append(str(threshold.status(age)))
    return worst_freshness(statuses)


def worst_freshness(statuses: Iterable[str]) -> str:
    """The worst of some sources' freshness statuses (runtime error, error, warn, pass), else unknown."""
    seen = set(statuses)
    return next((worst for worst in ("runtime error", "error", "warn", "pass") if worst in seen), "unknown")


def swap_in(conn: PgConnection, plan: Plan, run_id: int) -> list[str]:
    """Rename the shadow schemas over the live ones in one transaction; returns the live names.

    The schemas replaced become the next run's shadows (marked), so the next
    build continues from a complete copy instead of starting empty. Raises
    Refused, with nothing renamed, when a schema it would replace holds
    anything the warehouse did not build."""
    target = plan.target_schema
    ops = ops_schema(target)
    last = conn.execute(
        sql.SQL("select relations from {} order by run_id desc limit 1").format(sql.Identifier(ops, "publications"))
    ).fetchone()
    published: dict[str, list[str]] = dict(last[0]) if last and isinstance(last[0], dict) else {}
    with conn.transaction():
        # Renames wait behind long BI queries; give up (the run fails and the
        # next tick retries) rather than queue every new reader behind us.
        conn.execute("set local lock_timeout = '30s'")
        schemas = _schemas(conn)
        for shadow, built in sorted(plan.relations.items()):
            live, old = plan.live(shadow), plan.retired(shadow)
            if schemas.get(shadow) != schema_mark(target) or old in schemas:
                raise Refused(f"schema {shadow} or {old} is not as this run left it; nothing published")
            if extra := _foreign_objects(conn, shadow, built):
                raise Refused(f"{shadow} holds {', '.join(extra)}, which the build did not make; nothing published")
            if live in schemas:
                if extra := _foreign_objects(conn, live, built | set(published.get(live, []))):
                    raise Refused(
                        f"{live} holds {', '.join(extra)}, which the warehouse did not build; "
                        "move or drop it, nothing was published"
                    )
                _rename(conn, live, old)
            _rename(conn, shadow, live)
            if live in schemas:
                # The replaced copy is the next build's starting point.
                _rename(conn, old, shadow)
                _mark(conn, shadow, target)
        conn.execute(
            sql.SQL("insert into {} (run_id, relations) values (%s, %s)").format(sql.Identifier(ops, "publications")),
            (run_id, Jsonb({plan.live(s): sorted(names) for s, names in plan.relations.items()})),
        )
    return [plan.live(shadow) for shadow in sorted(plan.relations)]


@dataclass
class _Build:
    freshness: str | None = None
    results: object = None
    failures: list[str] = field(default_factory=list)
    refused: bool = False
    code_fingerprint: str | None = None
    unit_tests: str | None = None


def code_fingerprint(manifest: Manifest) -> str:
    """What the unit tests' outcome depends on: every node's and macro's source, the project file, dbt's version."""
    from dbt.version import __version__ as dbt_version

    digest = hashlib.sha256(dbt_version.encode())
    for unique_id, node in sorted(manifest.nodes.items()):
        digest.update(f"{unique_id}:{node.checksum.checksum}".encode())
    for unique_id, test in sorted(manifest.unit_tests.items()):
        digest.update(f"{unique_id}:{test.checksum}".encode())
    for unique_id, macro in sorted(manifest.macros.items()):
        digest.update(f"{unique_id}:{macro.macro_sql}".encode())
    digest.update((project_dir() / "dbt_project.yml").read_bytes())
    return digest.hexdigest()


def _last_checked_code(conn: PgConnection, target_schema: str) -> tuple[int, str] | None:
    """The last successful run that ran the unit tests, with its code fingerprint."""
    row = conn.execute(
        sql.SQL(
            "select run_id, code_fingerprint from {} where status = 'success' and unit_tests = 'ran'"
            " and code_fingerprint is not null order by run_id desc limit 1"
        ).format(sql.Identifier(ops_schema(target_schema), "run_history"))
    ).fetchone()
    return (int(str(row[0])), str(row[1])) if row else None


def _build_and_publish(
    lock_conn: PgConnection, run_id: int, *, source_schema: str, target_schema: str, target_path: Path,
    say: Callable[[str], None],
) -> _Build:
    """Parse, check the plan, build into marked shadows and swap; raises Refused (before building) or DbtError."""
    manifest = dbt_invoke.parse_manifest(target_path=target_path)
    plan = plan_build(manifest, source_schema=source_schema, target_schema=target_schema)
    prepare_shadows(lock_conn, plan)
    outcome = _Build()
    outcome.freshness = source_freshness(lock_conn, manifest)
    if outcome.freshness in ("warn", "error", "runtime error"):
        say(f"warning: source freshness is '{outcome.freshness}': the bot may have stopped writing trade_records")
    outcome.code_fingerprint = code_fingerprint(manifest)
    checked = _last_checked_code(lock_conn, target_schema)
    if checked is not None and checked[1] == outcome.code_fingerprint:
        outcome.unit_tests = f"skipped: code unchanged since run {checked[0]}"
        build = dbt_invoke.run_dbt(
            ["build", "--exclude", "test_type:unit"], target_path=target_path, manifest=manifest
        )
    else:
        outcome.unit_tests = "ran"
        build = dbt_invoke.run_dbt(["build"], target_path=target_path, manifest=manifest)
    outcome.results = build.results
    outcome.failures = list(build.failures) + ([build.exception] if build.exception else [])
    if build.success and not outcome.failures:
        try:
            swap_in(lock_conn, plan, run_id)
        except Refused as exc:
            outcome.failures.append(f"refused: {exc}")
            outcome.refused = True
        except psycopg.Error as exc:
            outcome.failures.append(f"publishing the build failed, live schemas unchanged: {exc}".strip())
    elif not outcome.failures:
        outcome.failures.append("dbt build did not succeed")
    return outcome


def scheduled_run(
    connection: Connection,
    *,
    source_schema: str,
    target_schema: str,
    target_path: Path,
    say: Callable[[str], None] = print,
) -> RunReport:
    started = time.monotonic()
    try:
        check_source(source_schema, target_schema)
    except Refused as exc:
        return RunReport(EXIT_REFUSED, f"refused, nothing built or changed: {exc}")
    lock_conn = connection.connect(autocommit=True)
    try:
        row = lock_conn.execute("select pg_try_advisory_lock(hashtext(%s))", (lock_key(target_schema),)).fetchone()
        if not row or not row[0]:
            return RunReport(EXIT_LOCKED, f"another run is building {target_schema}; this one exits without building")
        ensure_history(lock_conn, target_schema)
        settle_killed_runs(lock_conn, target_schema)
        history = sql.Identifier(ops_schema(target_schema), "run_history")
        run_row = lock_conn.execute(
            sql.SQL("insert into {} (status, host, pid) values ('running', %s, %s) returning run_id").format(history),
            (socket.gethostname(), os.getpid()),
        ).fetchone()
        assert run_row is not None
        run_id = int(str(run_row[0]))

        dbt_invoke.apply_environment(connection, source_schema=source_schema, target_schema=shadow_schema(target_schema))
        try:
            build = _build_and_publish(
                lock_conn, run_id, source_schema=source_schema, target_schema=target_schema,
                target_path=target_path, say=say,
            )
        except Refused as exc:
            build = _Build(failures=[f"refused: {exc}"], refused=True)
        except dbt_invoke.DbtError as exc:
            build = _Build(failures=[str(exc)])
        succeeded = not build.failures
        exit_code = EXIT_OK if succeeded else EXIT_REFUSED if build.refused else EXIT_FAILED
        status = "success" if succeeded else "refused" if build.refused else "failed"
        elapsed = time.monotonic() - started
        lock_conn.execute(
            sql.SQL(
                "update {} set finished_at = now(), status = %s, exit_code = %s, elapsed_seconds = %s,"
                " nodes_passed = %s, nodes_warned = %s, nodes_failed = %s, failures = %s, freshness_status = %s,"
                " code_fingerprint = %s, unit_tests = %s"
                " where run_id = %s"
            ).format(history),
            (
                status,
                exit_code,
                round(elapsed, 3),
                _count(build.results, ("pass", "success")),
                _count(build.results, ("warn",)),
                _count(build.results, ("error", "fail", "runtime error")),
                build.failures,
                build.freshness,
                build.code_fingerprint,
                build.unit_tests,
                run_id,
            ),
        )
        if succeeded:
            message = f"run {run_id}: built and published {target_schema}_* in {elapsed:.1f} s"
        elif build.refused:
            message = f"run {run_id}: refused; live schemas of {target_schema} left as they were"
        else:
            message = f"run {run_id}: build failed; live schemas of {target_schema} left as they were"
        return RunReport(exit_code, message, run_id, build.freshness, build.failures, elapsed)
    finally:
        lock_conn.close()
