"""What an incremental build rebuilds, keeps and tests: a correction in another symbol reaches the rows that
read it, the per-symbol marks record which rows passed their tests (and under which tests), a changed setting
rebuilds everything, scheduled runs build on the spare copy, and an empty build keeps the data.

Split from test_incremental.py (the equivalence tests) so that pytest-xdist can run the two files on two workers.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import Warehouse, failed_test_names, order
from reference import compare, fifo
from test_cli import cli
from test_fifo import reference_fills, sql_allocations
from test_incremental import (
    COMPARED,
    FIFO_SELECTION,
    apply_batch,
    assert_same_as_full_build,
    build_fifo,
    order_versions,
    row_versions,
    snapshot,
    verification,
)
from trades_warehouse import dbt_invoke
from trades_warehouse.paths import project_dir, state_dir
from trades_warehouse.synthetic import synthetic_rows


def project_release(folder: Path) -> Path:
    """A copy of the project's dbt files at `folder`: a release to edit and build from
    (use_release points dbt there)."""
    shutil.copytree(project_dir(), folder, ignore=shutil.ignore_patterns(
        ".*", "target", "logs", "dbt_packages", "reports", "artifacts", "bench_results*", "src", "pipeline",
    ))
    return folder


def use_release(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Point dbt (and `trades-warehouse`) at the project at `folder`; the state folder stays where it
    is, not beside the release."""
    monkeypatch.setenv("TRADES_STATE_DIR", str(state_dir()))
    monkeypatch.setenv("TRADES_PROJECT_DIR", str(folder))


def edit_release(file: Path, old: str, new: str) -> None:
    """Replace `old` (which must be there) by `new` in a release's file."""
    text = file.read_text()
    assert old in text, (file, old)
    file.write_text(text.replace(old, new))


def comment_into_macro(file: Path, header: str) -> None:
    """A release that changes a macro's code only: a comment under its header."""
    edit_release(file, header, header + "\n    {#- The next release's words. -#}")


def test_a_legacy_parent_in_another_symbol_is_followed(make_warehouse: Callable[[str], Warehouse]) -> None:
    """A sell's legacy row reads its parent, which the old matcher may have taken from another symbol:
    a correction of that parent (its symbol alone changes) still reaches the sell's row."""
    incremental, full = make_warehouse("legacy_inc"), make_warehouse("legacy_full")
    incremental.load([
        order("a-buy", "buy", "2025-12-01T10:00:00Z", 2.0, 10.0, symbol="AAA-USD"),
        order("a-sell", "sell", "2025-12-01T11:00:00Z", 1.0, 11.0, symbol="AAA-USD",
              parent_id="b-buy", pnl_usd=-276.53),
        order("b-buy", "buy", "2025-12-01T09:00:00Z", 3.0, 20.0, symbol="BBB-USD"),
    ])
    build_fifo(incremental, "--full-refresh")
    incremental.execute("update {raw}.trade_records set size = 0.5 where order_id = 'b-buy'")
    build_fifo(incremental)
    (parent_size,) = incremental.query(
        "select legacy_parent_size from {marts}.legacy_pnl_discrepancy where sell_order_id = 'a-sell'"
    )[0]
    assert parent_size == Decimal("0.5")
    assert_same_as_full_build(incremental, full, "legacy_pnl_discrepancy")
    incremental.execute("delete from {raw}.trade_records where order_id = 'b-buy'")
    build_fifo(incremental)
    assert incremental.query(
        "select legacy_parent_found, legacy_parent_missing from {marts}.legacy_pnl_discrepancy"
    ) == [(False, True)]
    assert_same_as_full_build(incremental, full, "legacy_pnl_discrepancy")
    # The missing parent turns up under a third symbol: only that symbol
    # changes, and the sell's row finds its parent there.
    incremental.load([order("b-buy", "buy", "2025-12-01T09:30:00Z", 0.25, 30.0, symbol="CCC-USD")], replace=False)
    build_fifo(incremental)
    assert incremental.query(
        "select legacy_parent_found, legacy_parent_symbol, legacy_parent_size from {marts}.legacy_pnl_discrepancy"
    ) == [(True, "CCC-USD", Decimal("0.25"))]
    assert_same_as_full_build(incremental, full, "legacy_pnl_discrepancy")


def failed_tests(outcome: dbt_invoke.DbtOutcome) -> set[str]:
    """The generic tests (by macro name) that failed on int_fifo_allocations."""
    return {name.split("_int_fifo_allocations")[0] for name in failed_test_names(outcome)}


def test_rows_no_test_has_passed_are_tested_by_the_next_build(make_warehouse: Callable[[str], Warehouse]) -> None:
    """Which symbols passed their invariant tests is recorded, not assumed: rows a `dbt run` wrote (or a
    build whose tests failed, or a killed one) are tested by every later build until a test passes over
    them, even a build that recomputes nothing; a failing `dbt test` takes every mark back."""
    warehouse = make_warehouse("verified")
    warehouse.load(list(synthetic_rows(400, 3, seed=21)))
    build_fifo(warehouse, "--full-refresh")
    marks = verification(warehouse)
    assert len(marks) == 3 and None not in marks.values() and len(set(marks.values())) == 1, marks
    assert set(verification(warehouse, "int_lot_balances").values()) == set(marks.values())
    build_fifo(warehouse)
    assert verification(warehouse) == marks, "a build that recomputed nothing tested nothing and kept the marks"

    # A plain `dbt run` writes one symbol's rows, and a bug in it wrote them wrong.
    (symbol, latest), *_ = warehouse.query(
        "select symbol, max(order_time) from {raw}.trade_records group by symbol order by symbol"
    )
    warehouse.load([order("late-buy", "buy", (latest + timedelta(minutes=1)).isoformat(), 1.5, 10.0,
                          symbol=symbol)], replace=False)
    assert warehouse.dbt("run", *FIFO_SELECTION).success
    assert verification(warehouse)[symbol] is None
    assert {s: m for s, m in verification(warehouse).items() if s != symbol} == {
        s: m for s, m in marks.items() if s != symbol
    }
    warehouse.execute("update {intermediate}.int_fifo_allocations set allocated_size = allocated_size * 2"
                      " where symbol = %s and buy_order_id is not null", (symbol,))
    for attempt in range(2):
        failed = failed_tests(warehouse.build(*FIFO_SELECTION))
        assert {"buys_never_overdrawn", "sell_allocations_sum_to_size"} <= failed, (attempt, failed)
        assert verification(warehouse)[symbol] is None, "a failed build verifies nothing"

    # Rebuilt right, the symbol passes and is verified by that build.
    outcome = warehouse.build(*FIFO_SELECTION, "--full-refresh")
    assert outcome.success, outcome.failures
    marks = verification(warehouse)
    assert None not in marks.values() and len(set(marks.values())) == 1, marks

    # The lots alone rewritten by a plain run, then wrong: the balance test reads the marks of both the
    # allocations and the lots. A build whose selection leaves that test out marks nothing.
    assert warehouse.dbt("run", "--select", "int_lot_balances", "--full-refresh").success
    assert set(verification(warehouse, "int_lot_balances").values()) == {None}
    assert warehouse.build("--select", "int_lot_balances").success
    assert set(verification(warehouse, "int_lot_balances").values()) == {None}
    warehouse.execute("update {intermediate}.int_lot_balances set remaining_size = remaining_size + 1"
                      " where symbol = %s", (symbol,))
    failed = failed_tests(warehouse.build(*FIFO_SELECTION))
    assert any(name.startswith("open_remaining_balances") for name in failed), failed
    assert warehouse.build(*FIFO_SELECTION, "--full-refresh").success

    # Rows changed behind dbt's back: `dbt test` checks every symbol, and its failure takes the marks
    # back, so the next build runs the invariant tests on every symbol again.
    warehouse.execute("update {intermediate}.int_fifo_allocations set allocated_size = allocated_size / 2"
                      " where symbol = %s and buy_order_id is not null", (symbol,))
    tested = warehouse.dbt("test", *FIFO_SELECTION, "--exclude", "test_type:unit")
    assert not tested.success and tested.failures
    assert set(verification(warehouse).values()) == {None}
    assert "sell_allocations_sum_to_size" in failed_tests(warehouse.build(*FIFO_SELECTION))


def test_row_and_key_tests_check_the_rows_not_yet_verified(make_warehouse: Callable[[str], Warehouse]) -> None:
    """In a build, row-local tests (not_null, accepted_values, at_least...) read the rows of symbols no
    test has passed over yet, and uniqueness tests every key those rows carry, against the whole table:
    a duplicate in a verified symbol is still found. `dbt test` reads every row."""
    warehouse = make_warehouse("scoped")
    warehouse.load(list(synthetic_rows(400, 3, seed=23)))
    build_fifo(warehouse, "--full-refresh")
    (changed, latest), (kept, _), *_ = warehouse.query(
        "select symbol, max(order_time) from {raw}.trade_records group by symbol order by symbol"
    )
    warehouse.load([order("late-buy", "buy", (latest + timedelta(minutes=1)).isoformat(), 1.5, 10.0,
                          symbol=changed)], replace=False)
    assert warehouse.dbt("run", *FIFO_SELECTION).success
    assert verification(warehouse, "int_closed_trades")[changed] is None
    assert verification(warehouse, "int_closed_trades")[kept] is not None

    # Wrong rows in the symbol no test has passed over yet...
    warehouse.execute("update {intermediate}.int_closed_trades set outcome = 'bogus'"
                      " where sell_order_id = (select min(sell_order_id) from {intermediate}.int_closed_trades"
                      " where symbol = %s)", (changed,))
    warehouse.execute("update {intermediate}.int_lot_balances set remaining_size = -1"
                      " where buy_order_id = (select min(buy_order_id) from {intermediate}.int_lot_balances"
                      " where symbol = %s)", (changed,))
    # ...and a copy of a verified symbol's trade filed under it: the key is the verified row's too.
    warehouse.execute("insert into {intermediate}.int_closed_trades select * from {intermediate}.int_closed_trades"
                      " where sell_order_id = (select min(sell_order_id) from {intermediate}.int_closed_trades"
                      " where symbol = %s)", (kept,))
    warehouse.execute("update {intermediate}.int_closed_trades set symbol = %s where ctid = ("
                      " select max(ctid) from {intermediate}.int_closed_trades where symbol = %s)", (changed, kept))
    # A lot duplicated within the verified symbol, behind dbt's back: no build rewrote it.
    warehouse.execute("insert into {intermediate}.int_lot_balances select * from {intermediate}.int_lot_balances"
                      " where buy_order_id = (select min(buy_order_id) from {intermediate}.int_lot_balances"
                      " where symbol = %s)", (kept,))

    failed = failed_test_names(warehouse.build(*FIFO_SELECTION))
    assert {
        "accepted_values_int_closed_trades_outcome__win__loss__breakeven",
        "at_least_int_lot_balances_remaining_size__0",
        "unique_int_closed_trades_sell_order_id",
    } <= failed, failed
    assert "unique_int_lot_balances_buy_order_id" not in failed, "verified rows are not read again by a build"
    tested = warehouse.dbt("test", "--select", "int_lot_balances", "--exclude", "test_type:unit")
    assert any("unique_int_lot_balances_buy_order_id" in f for f in tested.failures), tested.failures


def test_marks_cover_the_views_of_a_model_and_the_tests_they_were_earned_under(
    make_warehouse: Callable[[str], Warehouse], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The compat view keeps one row per allocation: in a build its tests read the symbols the
    allocations' marks do not vouch for, so a failure of theirs must keep those marks from being made.
    A mark records the tests (and views) it was earned under, with the code of every macro they call;
    marks earned under others are not trusted."""
    warehouse = make_warehouse("marks_views")
    # Joined by '-' alone, sell x-y of buy z and sell x of buy y-z would share an allocation id (as
    # dbt_utils' surrogate key joins them), and a correct build would fail.
    dashed = [
        order("z", "buy", "2025-12-01T10:00:00Z", 1.0, 10.0, symbol="DSH-USD"),
        order("x-y", "sell", "2025-12-01T11:00:00Z", 1.0, 11.0, symbol="DSH-USD"),
        order("y-z", "buy", "2025-12-01T12:00:00Z", 1.0, 10.0, symbol="DSH-USD"),
        order("x", "sell", "2025-12-01T13:00:00Z", 1.0, 12.0, symbol="DSH-USD"),
    ]
    warehouse.load([*synthetic_rows(300, 2, seed=29), *dashed])

    # A release whose compat view keys allocations as the last release did (ids joined by '-'
    # alone): the ids of DSH-USD collide, and only the view's test fails.
    project = project_dir()
    view = project_release(tmp_path / "last_key") / "models" / "compat" / "fifo_allocations.sql"
    last_key = (
        "md5(coalesce(sell_order_id, '_null_') || '-' || coalesce(buy_order_id, '_null_')"
        " || '-' || allocation_version::text) as allocation_id,\n"
    )
    edit_release(view, "        allocation_id,\n", f"        {last_key}")
    use_release(monkeypatch, view.parents[2])
    view_test = "unique_fifo_allocations_allocation_id"
    for attempt in range(2):
        failed = failed_test_names(warehouse.build(*FIFO_SELECTION, *(["--full-refresh"] if not attempt else [])))
        assert failed == {view_test}, (attempt, failed)
        assert set(verification(warehouse).values()) == {None}, "the view's failure keeps every mark unmade"

    # This release: every test passes, the dashed ids included, and the marks name what they were
    # earned under.
    use_release(monkeypatch, project)
    build_fifo(warehouse)
    assert warehouse.query(
        "select count(*) - count(distinct allocation_id) from {marts}.fifo_allocations where symbol = 'DSH-USD'"
    ) == [(0,)]
    state = warehouse.query(
        "select count(*), count(distinct verified_under) from {intermediate}.incremental_symbol_state"
        " where model_name = 'int_fifo_allocations' and verified_by is not null"
    )
    assert state == [(3, 1)], state

    # Behind dbt's back, in a verified symbol, a sell's last piece names the lot of its first (every
    # total stays as it was): the view's key test reads the symbols not yet verified (none) and
    # misses the repeated key.
    ((kept,),) = warehouse.query("select min(symbol) from {intermediate}.int_fifo_allocations where symbol <> 'DSH-USD'")
    ((sell, first_lot, last_lot),) = warehouse.query(
        "select sell_order_id, min(buy_order_id), max(buy_order_id) from {intermediate}.int_fifo_allocations"
        " where symbol = %s and buy_order_id is not null"
        " group by sell_order_id having count(*) > 1 order by sell_order_id limit 1", (kept,))

    def repeat_a_key() -> None:
        warehouse.execute(
            "update {intermediate}.int_fifo_allocations set buy_order_id = %s where sell_order_id = %s and buy_order_id = %s",
            (first_lot, sell, last_lot),
        )
        assert warehouse.query("select count(*) - count(distinct allocation_id) from {marts}.fifo_allocations") == [(1,)]
        build_fifo(warehouse)

    repeat_a_key()
    key_test = "unique_combination_of_columns_int_fifo_allocations_sell_order_id__buy_order_id__allocation_version"

    # A release changes the code under a generic test, in a copy of the project: here our
    # postgres__test_unique, which dbt's `unique` test reaches only by dispatch (a comment is
    # enough). Marks earned under the old code are not trusted, so its first build reads every
    # symbol and finds the repeated key.
    release = tmp_path / "next_release"
    project_release(release)
    macros = release / "macros" / "tests_of_unverified_rows.sql"
    comment_into_macro(macros, "{% macro postgres__test_unique(model, column_name) -%}")
    use_release(monkeypatch, release)
    assert key_test in failed_test_names(warehouse.build(*FIFO_SELECTION))

    # Put right by a full build of the release, which marks every symbol; the key repeated again is
    # missed again.
    build_fifo(warehouse, "--full-refresh")
    assert None not in verification(warehouse).values()
    repeat_a_key()

    # The release after adds a test reading the allocations (one more singular test): its first
    # build reads every symbol and finds the repeated key (the views after the allocations' failed
    # tests are skipped).
    (release / "tests" / "pieces_have_a_size.sql").write_text(
        "select * from {{ ref('int_fifo_allocations') }} where allocated_size <= 0\n"
    )
    assert key_test in failed_test_names(warehouse.build(*FIFO_SELECTION))


def test_a_macro_of_a_view_upstream_is_in_the_build_fingerprint(
    make_warehouse: Callable[[str], Warehouse], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The legacy detector keeps rows it read through fct_fifo_allocations, a view whose allocation id
    the surrogate key macro computes at every read: a release changing that macro changes the
    detector's build fingerprint (its rows are recomputed), and not that of int_closed_trades, which
    reads no such view."""
    warehouse = make_warehouse("view_macros")
    warehouse.load(list(synthetic_rows(200, 2, seed=5)))
    build_fifo(warehouse, "--full-refresh")
    compiled = {
        "legacy_pnl_discrepancy": Path("marts", "reporting", "legacy", "legacy_pnl_discrepancy.sql"),
        "int_closed_trades": Path("intermediate", "int_closed_trades.sql"),
    }

    def fingerprints() -> dict[str, set[str]]:
        outcome = warehouse.dbt("compile", "--select", *compiled)
        assert outcome.success, outcome.exception
        models = warehouse.target_path / "compiled" / "trades_warehouse" / "models"
        return {
            name: set(re.findall(r"build_fingerprint = '([0-9a-f]{32})'", (models / path).read_text()))
            for name, path in compiled.items()
        }

    before = fingerprints()
    assert all(len(found) == 1 for found in before.values()), before
    macro = project_release(tmp_path / "next_release") / "macros" / "surrogate_key.sql"
    comment_into_macro(macro, "{% macro surrogate_key(expressions) -%}")
    use_release(monkeypatch, macro.parents[1])
    after = fingerprints()
    assert after["legacy_pnl_discrepancy"] != before["legacy_pnl_discrepancy"], "the view's macro is not fingerprinted"
    assert after["int_closed_trades"] == before["int_closed_trades"], "a model reading no such view was touched"


def test_a_changed_setting_rebuilds_every_row(make_warehouse: Callable[[str], Warehouse]) -> None:
    """allocation_version (like fifo_dust, as_of or the model's code) changes every row: none is kept;
    starting_equity_usd rebuilds the equity curve and nothing of the FIFO core."""
    warehouse = make_warehouse("version")
    warehouse.load(list(synthetic_rows(600, 4, seed=3)))
    build_fifo(warehouse, "--full-refresh")
    allocations = row_versions(warehouse)
    build_fifo(warehouse, dbt_vars={"starting_equity_usd": 5000})
    assert warehouse.query(
        "select distinct equity_usd - cumulative_pnl_usd from {marts}.equity_curve"
    ) == [(Decimal(5000),)]
    assert row_versions(warehouse) == allocations, "the allocations do not depend on the starting equity"
    build_fifo(warehouse)
    build_fifo(warehouse, dbt_vars={"allocation_version": 3})
    versions = warehouse.query("select distinct allocation_version from {marts}.fct_fifo_allocations")
    assert versions == [(3,)]
    build_fifo(warehouse)
    versions = warehouse.query("select distinct allocation_version from {marts}.fct_fifo_allocations")
    assert versions == [(2,)]


def test_an_edited_seed_reinfers_every_symbol(
    make_warehouse: Callable[[str], Warehouse], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The entry triggers the bot left empty are inferred per symbol from the trigger_notional_map
    seed and kept between builds: a release that edits the seed changes the build fingerprint, so
    no symbol keeps triggers inferred from the old map."""
    warehouse = make_warehouse("seed_edit")
    warehouse.load(list(synthetic_rows(600, 4, seed=11)))
    warehouse.execute("update {raw}.trade_records set trigger = null where side = 'buy'")
    selection = ("--select", "+trigger_performance")
    assert warehouse.build(*selection, "--full-refresh").success

    def inferred() -> dict[str, int]:
        return {
            str(name): int(orders) for name, orders in warehouse.query(
                "select trigger_name, orders from {marts}.trigger_performance where trigger_role = 'entry' and is_inferred"
            )
        }

    before = inferred()
    assert sum(before.values()) > 100 and len(before) > 1, before

    release = tmp_path / "next_release"
    project_release(release)
    seed = release / "seeds" / "trigger_notional_map.csv"
    # Every band is renamed, the fallback too: no inferred name of the old map may stay.
    seed.write_text("\n".join(
        line if i == 0 else "renamed_" + line for i, line in enumerate(seed.read_text().splitlines())
    ) + "\n")
    use_release(monkeypatch, release)
    assert warehouse.build(*selection).success
    after = inferred()
    assert after == {"renamed_" + name: orders for name, orders in before.items()}, (before, after)


def test_scheduled_runs_build_on_the_spare_copy(make_warehouse: Callable[[str], Warehouse]) -> None:
    """`run` publishes by swapping schemas, and the copy it replaced is where the next run builds:
    each run recomputes only the symbols changed since that copy was built (two runs back), and
    what it publishes equals the reference after every batch."""
    warehouse = make_warehouse("runinc")
    warehouse.load(list(synthetic_rows(1200, 12, seed=5)))
    rng = random.Random(5)
    touched_by_batch: list[set[str]] = []
    for batch in range(-1, 3):
        if batch >= 0:
            touched_by_batch.append(apply_batch(warehouse, rng, batch))
        ((started_xid,),) = warehouse.query("select pg_current_xact_id()::text::bigint % 4294967296")
        result = cli(warehouse, "run")
        assert isinstance(result, subprocess.CompletedProcess)
        assert result.returncode == 0, result.stdout + result.stderr
        raw = warehouse.query(
            "select order_id, symbol, side, order_time, size, price, total_fees_usd from {raw}.trade_records"
            " where status = 'filled'"
        )
        fills = [dict(zip(("order_id", "symbol", "side", "order_time", "size", "price", "total_fees_usd"), r))
                 for r in raw]
        assert compare(sql_allocations(warehouse), fifo(reference_fills(fills))) == [], f"after batch {batch}"
        if batch >= 1:
            # The published copy was last built two runs ago: this run rewrote
            # only the symbols the last two batches touched.
            versions = row_versions(warehouse)
            rewritten = {symbol for symbol, v in versions.items() if max(v) > started_xid}
            assert rewritten <= touched_by_batch[-1] | touched_by_batch[-2], (rewritten, touched_by_batch[-2:])
            assert set(versions) - rewritten, "symbols nobody touched keep their rows"


def test_an_empty_build_checks_the_sql_and_keeps_the_data(make_warehouse: Callable[[str], Warehouse]) -> None:
    """`dbt build --empty` (every ref and source reads no rows) passes on a fresh target and on one that
    holds data; there it leaves the incremental tables, their state and what staging read as they were
    (views and tables it makes empty, as dbt does), fingerprints included, so the next build recomputes
    nothing; a selection that leaves out fingerprints made anew and empty stops instead of dropping every
    symbol."""
    warehouse = make_warehouse("empty")
    warehouse.load(list(synthetic_rows(600, 4, seed=11)))
    fresh = warehouse.build("--empty")
    assert fresh.success, fresh.failures
    assert warehouse.query("select count(*) from {staging}.base_trading_bot__orders") == [(0,)]
    outcome = warehouse.build()
    assert outcome.success, outcome.failures
    assert warehouse.query("select count(*) from {staging}.base_trading_bot__orders") == [(600,)]

    before = {model: snapshot(warehouse, model) for model in COMPARED}
    state = "select model_name, symbol, fingerprint, build_fingerprint, recomputed_by, verified_by from {} order by 1, 2"
    state_before = [warehouse.query(state.format(f"{{{schema}}}.incremental_symbol_state"))
                    for schema in ("intermediate", "marts")]
    read = "select order_key, raw_row_version from {staging}.base_trading_bot__orders__raw_read order by 1, 2"
    read_before = warehouse.query(read)
    versions = row_versions(warehouse)
    staging_versions = order_versions(warehouse)
    curve_versions = row_versions(warehouse, "{marts}.equity_curve", "sell_order_id")

    empty = warehouse.build("--empty")
    assert empty.success, empty.failures
    incremental = [model for model in COMPARED if model != "fct_fifo_allocations"]  # a view of int_fifo_allocations
    assert {model: snapshot(warehouse, model) for model in incremental} == {model: before[model] for model in incremental}
    assert row_versions(warehouse) == versions
    assert [warehouse.query(state.format(f"{{{schema}}}.incremental_symbol_state"))
            for schema in ("intermediate", "marts")] == state_before
    assert warehouse.query(read) == read_before

    # The fingerprints kept their rows too: a selection without them recomputes nothing.
    partial = warehouse.dbt("run", "--select", "fct_fills")
    assert partial.success, partial.failures
    assert snapshot(warehouse, "fct_fills") == before["fct_fills"]
    # Fingerprints made anew and empty: a selection without them stops rather than drop every symbol.
    emptied = warehouse.build("--empty", "--full-refresh", "--select", "int_fill_fingerprints")
    assert emptied.success, emptied.failures
    partial = warehouse.build("--select", "fct_fills")
    assert not partial.success and any("int_fill_fingerprints is empty" in f for f in partial.failures), partial.failures
    assert snapshot(warehouse, "fct_fills") == before["fct_fills"]

    outcome = warehouse.build()
    assert outcome.success, outcome.failures
    assert row_versions(warehouse) == versions, "the build after an --empty one recomputes nothing"
    assert order_versions(warehouse) == staging_versions
    assert row_versions(warehouse, "{marts}.equity_curve", "sell_order_id") == curve_versions

    # --empty --full-refresh empties everything, staging's read record too: consistent, and rebuilt whole.
    emptied = warehouse.build("--empty", "--full-refresh")
    assert emptied.success, emptied.failures
    tested = warehouse.dbt("test", "--exclude", "test_type:unit")
    assert tested.success, tested.failures
    assert warehouse.query(read) == []
    outcome = warehouse.build()
    assert outcome.success, outcome.failures
    assert {model: snapshot(warehouse, model) for model in COMPARED} == before
