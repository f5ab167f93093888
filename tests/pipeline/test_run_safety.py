"""`run` as cron calls it, whatever the configuration: it never loses the bot's data,
keeps BI access, says "database" with exit 3, and knows what a killed run published."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from psycopg import sql

from conftest import Warehouse, order
from test_cli import assert_only_spare_copies_left, cli
from trades_warehouse import scheduler

ROWS = [
    order("b1", "buy", "2025-12-01T10:00:00Z", 2.0, 10.0),
    order("s1", "sell", "2025-12-01T11:00:00Z", 1.0, 11.0),
]


@dataclass
class SourceNamed(Warehouse):
    """A warehouse whose source schema is the target's name plus ``source_suffix``."""

    source_suffix: str = "_raw"

    @property
    def source_schema(self) -> str:
        return self.name + self.source_suffix


def _relations(warehouse: Warehouse, schema: str) -> list[str]:
    rows = warehouse.query(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind in ('r', 'v', 'm') order by 1",
        (schema,),
    )
    return [str(name) for (name,) in rows]


def _schemas_of(warehouse: Warehouse) -> set[str]:
    rows = warehouse.query("select nspname from pg_namespace where nspname like %s", (warehouse.name + "%",))
    return {str(name) for (name,) in rows}


@pytest.mark.parametrize(
    "suffix",
    ["", "_staging", "_marts", "_intermediate", "_seeds", "_build", "_build_marts", "_retired",
     "_retired_staging", "_ops"],
)
def test_run_never_touches_a_source_schema_named_like_its_own(
    make_warehouse: Callable[[str], Warehouse], suffix: str
) -> None:
    base = make_warehouse("srcname")
    warehouse = SourceNamed(base.connection, base.name, base.target_path, source_suffix=suffix)
    warehouse.load(ROWS)
    before = warehouse.query("select * from {raw}.trade_records order by order_id")

    result = cli(warehouse, "run")
    assert isinstance(result, subprocess.CompletedProcess)

    assert _relations(warehouse, warehouse.source_schema) == ["trade_records"], "nothing lost or added there"
    assert warehouse.query("select * from {raw}.trade_records order by order_id") == before
    assert result.returncode == scheduler.EXIT_REFUSED, result.stdout + result.stderr
    assert "refused" in result.stderr and "Traceback" not in result.stderr
    schemas = _schemas_of(warehouse)
    assert not {s for s in schemas if "_build" in s or "_retired" in s} - {warehouse.source_schema}, schemas


def test_run_refuses_to_replace_a_live_schema_holding_what_it_did_not_build(
    make_warehouse: Callable[[str], Warehouse],
) -> None:
    warehouse = make_warehouse("foreign")
    warehouse.load(ROWS)
    warehouse.execute("create schema {marts}; create table {marts}.keepme as select 42 as answer")

    refused = cli(warehouse, "run")
    assert isinstance(refused, subprocess.CompletedProcess)
    assert refused.returncode == scheduler.EXIT_REFUSED, refused.stdout + refused.stderr
    assert "keepme" in refused.stderr
    assert warehouse.query("select answer from {marts}.keepme") == [(42,)]
    assert _relations(warehouse, warehouse.marts) == ["keepme"], "nothing published beside it"
    history = warehouse.query(f"select status, exit_code from {warehouse.name}_ops.run_history")
    assert history == [("refused", scheduler.EXIT_REFUSED)]

    # Moved out of the way, the next run publishes (and clears the refused run's shadows).
    warehouse.execute("drop table {marts}.keepme")
    published = cli(warehouse, "run")
    assert isinstance(published, subprocess.CompletedProcess)
    assert published.returncode == 0, published.stdout + published.stderr
    (pnl,) = warehouse.query("select sum(pnl_usd) from {marts}.fct_fifo_allocations")[0]
    assert float(pnl) == 1.0
    assert_only_spare_copies_left(warehouse)


def test_bi_role_reads_the_marts_after_every_run(
    make_warehouse: Callable[[str], Warehouse], monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = make_warehouse("birole")
    role = f"{warehouse.name}_bi"
    try:
        warehouse.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)).as_string(None))
    except Exception as exc:  # a server of your own may not let you create roles
        pytest.skip(f"cannot create a role here: {exc}")
    monkeypatch.setenv("TRADES_BI_READ_ROLE", role)
    try:
        warehouse.load(ROWS)
        for _ in range(2):
            result = cli(warehouse, "run")
            assert isinstance(result, subprocess.CompletedProcess)
            assert result.returncode == 0, result.stdout + result.stderr
            with warehouse.connection.connect() as conn:
                conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
                for mart in ("fct_fifo_allocations", "fifo_allocations", "performance_metrics"):
                    conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(warehouse.marts, mart)))
                conn.rollback()
    finally:
        warehouse.execute(sql.SQL("drop owned by {0}; drop role {0}").format(sql.Identifier(role)).as_string(None))


def _refused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", ["run", "build"])
def test_unreachable_database_exits_3_with_one_line(command: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PGHOST": "127.0.0.1",
        "PGPORT": str(_refused_port()),
        "PGUSER": "nobody",
        "PGPASSWORD": "wrong",
        "PGDATABASE": "nowhere",
        "TRADES_STATE_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "trades_warehouse", command], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot connect" in lines[0], result.stderr


def test_run_killed_after_publishing_is_recorded_as_published(
    make_warehouse: Callable[[str], Warehouse], monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = make_warehouse("killpub")
    warehouse.load(ROWS)
    for name in ("TRADES_SOURCE_SCHEMA", "TRADES_TARGET_SCHEMA"):  # run sets them; restore after
        monkeypatch.setenv(name, "unset")
    real_swap = scheduler.swap_in

    def swap_then_die(conn: scheduler.PgConnection, plan: scheduler.Plan, run_id: int) -> list[str]:
        real_swap(conn, plan, run_id)
        raise KeyboardInterrupt  # killed after the swap committed, before the history update

    monkeypatch.setattr(scheduler, "swap_in", swap_then_die)
    with pytest.raises(KeyboardInterrupt):
        scheduler.scheduled_run(
            warehouse.connection,
            source_schema=warehouse.source_schema,
            target_schema=warehouse.target_schema,
            target_path=warehouse.target_path / "killed",
            say=lambda line: None,
        )
    (pnl,) = warehouse.query("select sum(pnl_usd) from {marts}.fct_fifo_allocations")[0]
    assert float(pnl) == 1.0, "it did publish"
    monkeypatch.setattr(scheduler, "swap_in", real_swap)

    after = cli(warehouse, "run")
    assert isinstance(after, subprocess.CompletedProcess)
    assert after.returncode == 0, after.stdout + after.stderr
    statuses = [s for (s,) in warehouse.query(
        f"select status from {warehouse.name}_ops.run_history order by run_id"
    )]
    assert statuses == ["published_unrecorded", "success"]
