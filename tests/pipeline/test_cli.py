"""The command line as users and cron call it: load, run, locking, killed runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from psycopg import sql

from conftest import Warehouse, order
from trades_warehouse import dbt_invoke, scheduler


def cli(warehouse: Warehouse, *args: str, wait: bool = True) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    env = {
        **os.environ,
        **warehouse.connection.env(),
        "TRADES_SOURCE_SCHEMA": warehouse.source_schema,
        "TRADES_TARGET_SCHEMA": warehouse.target_schema,
        "TRADES_STATE_DIR": str(warehouse.target_path / "state"),
    }
    command = [sys.executable, "-m", "trades_warehouse", *args]
    if not wait:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def test_load_is_idempotent_and_rejects_malformed_files(
    make_warehouse: Callable[[str], Warehouse], tmp_path: Path
) -> None:
    warehouse = make_warehouse("load")
    good = tmp_path / "good.csv"
    good.write_text(
        "order_id,symbol,side,order_time,price,size,total_fees_usd,trigger,status\n"
        "b1,AVAX-USD,buy,2025-12-01T10:00:00Z,10,2,0.1,roc_buy,filled\n"
        's1,AVAX-USD,sell,2025-12-01T11:00:00Z,11,2,0.1,"{""trigger"": ""take_profit""}",filled\n'
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "order_id,symbol,side,order_time,price,size\n"
        "x1,AVAX-USD,buy,2025-12-01T10:00:00Z,10,2\n"
        "x2,AVAX-USD,buy,2025-12-01T10:00:00Z,ten,2\n"
    )
    status_only = tmp_path / "status.jsonl"
    status_only.write_text('{"order_id": "s1", "status": "done"}\n')
    broken_json = tmp_path / "broken.json"
    broken_json.write_text('[{"order_id": "j1", "symbol": "A-USD"},')

    first = cli(warehouse, "load", str(good))
    assert isinstance(first, subprocess.CompletedProcess)
    assert first.returncode == 0, first.stdout + first.stderr
    again = cli(warehouse, "load", str(good))
    assert isinstance(again, subprocess.CompletedProcess)
    assert again.returncode == 0 and "0 new, 2 updated" in again.stdout

    partial = cli(warehouse, "load", str(status_only))
    assert isinstance(partial, subprocess.CompletedProcess) and partial.returncode == 0, partial.stderr
    assert warehouse.query("select status, size, price from {raw}.trade_records where order_id = 's1'") == [
        ("done", 2.0, 11.0)
    ], "a file of some columns updates only those"

    rejected = cli(warehouse, "load", str(bad), str(broken_json))
    assert isinstance(rejected, subprocess.CompletedProcess)
    assert rejected.returncode == 2
    assert "bad.csv:3: column price" in rejected.stderr
    assert "broken.json" in rejected.stderr
    ids = sorted(o for (o,) in warehouse.query("select order_id from {raw}.trade_records"))
    assert ids == ["b1", "s1"], "nothing of a malformed file is loaded"
    (trigger,) = warehouse.query("select trigger #>> '{{}}' from {raw}.trade_records where order_id = 'b1'")[0]
    assert trigger == "roc_buy"


@pytest.fixture()
def scheduled(make_warehouse: Callable[[str], Warehouse]) -> Warehouse:
    warehouse = make_warehouse("sched")
    warehouse.load(
        [
            order("b1", "buy", "2025-12-01T10:00:00Z", 2.0, 10.0),
            order("s1", "sell", "2025-12-01T11:00:00Z", 1.0, 11.0),
        ]
    )
    return warehouse


def test_run_publishes_and_records_history(scheduled: Warehouse) -> None:
    result = cli(scheduled, "run")
    assert isinstance(result, subprocess.CompletedProcess)
    assert result.returncode == 0, result.stdout + result.stderr
    history = scheduled.query(
        f"select status, exit_code, nodes_failed, freshness_status from {scheduled.target_schema}_ops.run_history"
    )
    assert history == [("success", 0, 0, "error")], "demo-old data is stale: freshness says so"
    assert "stopped writing" in result.stderr
    (pnl,) = scheduled.query("select sum(pnl_usd) from {marts}.fct_fifo_allocations")[0]
    assert float(pnl) == 1.0
    assert_only_spare_copies_left(scheduled)


def test_the_runs_freshness_verdict_is_dbts(make_warehouse: Callable[[str], Warehouse]) -> None:
    """The run asks the source's freshness in one query (scheduler.source_freshness) instead of invoking
    `dbt source freshness`: for fresh, late, stale, future-stamped, empty and missing sources it says what
    dbt itself says."""
    warehouse = make_warehouse("fresh")
    dbt_invoke.apply_environment(
        warehouse.connection, source_schema=warehouse.source_schema, target_schema=warehouse.target_schema
    )
    manifest = dbt_invoke.parse_manifest(target_path=warehouse.target_path)

    def fill_hours_ago(order_id: str, hours: float) -> dict[str, object]:
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - hours * 3600))
        return order(order_id, "buy", at, 1.0, 10.0)

    def verdicts() -> tuple[str, str]:
        with warehouse.connection.connect(autocommit=True) as conn:
            ours = scheduler.source_freshness(conn, manifest)
        outcome = warehouse.dbt("source", "freshness")
        dbts = scheduler.worst_freshness(str(r.status) for r in getattr(outcome.results, "results", None) or [])
        return ours, dbts

    seen = []
    for rows in (
        [fill_hours_ago("recent", 1)],
        [fill_hours_ago("late", 7)],
        [fill_hours_ago("stale", 50)],
        # Stamped a day ahead: quarantined by staging, and no proof that the bot still writes.
        [fill_hours_ago("late", 7), fill_hours_ago("ahead", -24)],
    ):
        warehouse.load(rows)
        seen.append(verdicts())
    warehouse.execute("delete from {raw}.trade_records")
    seen.append(verdicts())
    warehouse.execute("alter table {raw}.trade_records rename to trade_records_elsewhere")
    seen.append(verdicts())
    assert [ours for ours, _ in seen] == [dbts for _, dbts in seen]
    assert [ours for ours, _ in seen] == ["pass", "warn", "error", "warn", "error", "runtime error"]


def assert_only_spare_copies_left(warehouse: Warehouse) -> None:
    """After a run: no retired schema, and every shadow is a marked spare copy the next run builds on."""
    rows = warehouse.query(
        "select nspname, obj_description(oid, 'pg_namespace') from pg_namespace where nspname like %s",
        (warehouse.target_schema + "%",),
    )
    assert not [name for name, _ in rows if "_retired" in name], rows
    mark = scheduler.schema_mark(warehouse.target_schema)
    assert all(comment == mark for name, comment in rows if "_build" in name), rows


def test_unit_tests_run_once_per_code_version(scheduled: Warehouse) -> None:
    """Unit tests depend on code only: a run with the code of the last checked run leaves them out."""
    for _ in range(2):
        result = cli(scheduled, "run")
        assert isinstance(result, subprocess.CompletedProcess)
        assert result.returncode == 0, result.stdout + result.stderr
    rows = scheduled.query(
        f"select run_id, unit_tests, code_fingerprint, nodes_passed"
        f" from {scheduled.target_schema}_ops.run_history order by run_id"
    )
    (first_id, first_tests, first_code, first_passed), (_, second_tests, second_code, second_passed) = rows
    assert first_tests == "ran" and second_tests == f"skipped: code unchanged since run {first_id}"
    assert first_code == second_code and len(first_code) == 64
    unit_tests = len(dbt_invoke.parse_manifest(target_path=scheduled.target_path / "parse").unit_tests)
    assert unit_tests > 30 and first_passed - second_passed == unit_tests


def test_second_run_refuses_while_one_holds_the_lock(scheduled: Warehouse) -> None:
    with scheduled.connection.connect(autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(hashtext(%s))", (scheduler.lock_key(scheduled.target_schema),))
        started = time.monotonic()
        refused = cli(scheduled, "run")
        assert isinstance(refused, subprocess.CompletedProcess)
        assert refused.returncode == scheduler.EXIT_LOCKED
        assert "another run is building" in refused.stderr
        assert time.monotonic() - started < 30, "the refusal is immediate, not a wait"


def test_two_concurrent_runs_give_one_build_and_one_refusal(scheduled: Warehouse) -> None:
    runs = [cli(scheduled, "run", wait=False) for _ in range(2)]
    codes = []
    for process in runs:
        assert isinstance(process, subprocess.Popen)
        process.communicate(timeout=600)
        codes.append(process.returncode)
    assert sorted(codes) == [0, scheduler.EXIT_LOCKED] or codes == [0, 0], codes
    # Both may succeed only one after the other (the first done before the
    # second asked): then two history rows, never overlapping.
    rows = scheduled.query(
        f"select started_at, finished_at from {scheduled.target_schema}_ops.run_history order by run_id"
    )
    assert len(rows) == codes.count(0)
    if len(rows) == 2:
        assert rows[0][1] <= rows[1][0]


def test_killed_run_leaves_marts_as_they_were(scheduled: Warehouse) -> None:
    for _ in range(2):  # the second run leaves the first one's schemas as the spare shadow copy
        first = cli(scheduled, "run")
        assert isinstance(first, subprocess.CompletedProcess) and first.returncode == 0
    before = scheduled.query("select sell_order_id, buy_order_id, allocated_size from {marts}.fct_fifo_allocations")
    scheduled.load([order("s2", "sell", "2025-12-01T12:00:00Z", 1.0, 12.0)], replace=False)

    # Hold a share lock on a table of the spare shadow copy: dbt, writing to
    # or replacing that table mid-build, waits on it, and the kill lands while
    # it is building (waiting for a moment of activity instead missed fast builds).
    spare = sql.Identifier(f"{scheduler.shadow_schema(scheduled.target_schema)}_staging", "base_trading_bot__orders")
    with scheduled.connection.connect() as blocker:
        blocker.execute(sql.SQL("lock table {} in share mode").format(spare))
        victim = cli(scheduled, "run", wait=False)
        assert isinstance(victim, subprocess.Popen)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if scheduled.query(
                "select 1 from pg_stat_activity where application_name like 'dbt%%' and wait_event_type = 'Lock'"
                " and datname = current_database() and query like %s",
                (f"%{scheduled.target_schema}_build%",),
            ):
                break
            time.sleep(0.05)
        else:
            victim.kill()
            pytest.fail("the run never started building: " + (victim.communicate()[0] or "")[-2000:])
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        blocker.rollback()
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)

    assert scheduled.query(
        "select sell_order_id, buy_order_id, allocated_size from {marts}.fct_fifo_allocations"
    ) == before
    deadline = time.monotonic() + 30
    while True:  # the killed client's backend lets go of the lock when it notices
        after = cli(scheduled, "run")
        assert isinstance(after, subprocess.CompletedProcess)
        if after.returncode != scheduler.EXIT_LOCKED or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert after.returncode == 0, after.stdout + after.stderr
    statuses = [s for (s,) in scheduled.query(
        f"select status from {scheduled.target_schema}_ops.run_history order by run_id"
    )]
    assert statuses == ["success", "success", "abandoned", "success"]
    sells = {s for (s,) in scheduled.query("select sell_order_id from {marts}.fct_fifo_allocations")}
    assert sells == {"s1", "s2"}
