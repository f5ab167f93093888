"""Incremental FIFO builds: after any batch of changes, equal to a full build, and only changed symbols rewritten."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from conftest import Warehouse, order
from reference import compare, fifo
from test_fifo import reference_fills, sql_allocations
from trades_warehouse.synthetic import synthetic_rows

FIFO_SELECTION = (
    "--select",
    "+fct_fills +fct_fifo_allocations +fifo_allocations +fct_buy_lots +int_fills_aggregated_daily +legacy_pnl_discrepancy"
    " +equity_curve +int_holding_times_aggregated +int_orders_aggregated_by_trigger +int_fills_aggregated_by_source",
)
COMPARED = {  # model: (schema placeholder, order of its rows)
    "base_trading_bot__orders": ("staging", "order_id, raw_row_hash"),  # less its raw_row_version: see snapshot
    "int_fill_fingerprints": ("intermediate", "symbol"),
    "fct_fifo_allocations": ("marts", "allocation_id"),
    "fct_fills": ("marts", "order_id"),
    "int_closed_trades": ("intermediate", "sell_order_id"),
    "int_lot_balances": ("intermediate", "buy_order_id"),
    "int_fills_aggregated_daily": ("intermediate", "symbol, date_day"),
    "int_holding_times_aggregated": ("intermediate", "symbol"),
    "int_orders_aggregated_by_trigger": ("intermediate", "symbol, trigger_role, trigger_name, is_inferred"),
    "int_fills_aggregated_by_source": ("intermediate", "symbol, source"),
    "legacy_pnl_discrepancy": ("marts", "sell_order_id"),
    "equity_curve": ("marts", "trade_seq"),
}


def build_fifo(warehouse: Warehouse, *extra: str, dbt_vars: dict[str, object] | None = None) -> None:
    outcome = warehouse.build(*FIFO_SELECTION, *extra, dbt_vars=dbt_vars)
    assert outcome.success, outcome.failures


# Columns that name where a row came from rather than what it holds: the raw
# row version (tableoid, xmin, ctid) differs between two warehouses loaded
# with the same rows, and is compared within one warehouse (the retyped ids).
SOURCE_IDENTITY_COLUMNS = {"base_trading_bot__orders": ("raw_row_version",)}


def snapshot(warehouse: Warehouse, model: str) -> list[tuple[Any, ...]]:
    schema, order_by = COMPARED[model]
    columns = [
        str(name) for (name,) in warehouse.query(
            "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped"
            " order by attnum",
            (sql.Identifier(getattr(warehouse, schema), model).as_string(None),),
        ) if name not in SOURCE_IDENTITY_COLUMNS.get(model, ())
    ]
    selected = ", ".join(sql.Identifier(c).as_string(None) for c in columns)
    return warehouse.query(f"select {selected} from {{{schema}}}.{model} order by {order_by}")


def row_versions(
    warehouse: Warehouse, relation: str = "{intermediate}.int_fifo_allocations", key: str = "symbol"
) -> dict[str, set[int]]:
    """Per key (symbol, order id), the transaction ids that wrote its rows of a stored model: a rewritten
    row gets a new one."""
    versions: dict[str, set[int]] = {}
    for value, xmin in warehouse.query(f"select {key}, xmin::text::bigint from {relation}"):
        versions.setdefault(value, set()).add(xmin)
    return versions


def order_versions(warehouse: Warehouse) -> dict[str, set[int]]:
    """Per order id, the transaction ids that wrote its typed rows in staging."""
    return row_versions(warehouse, "{staging}.base_trading_bot__orders", "order_id")


def fingerprints(warehouse: Warehouse) -> dict[str, object]:
    rows = warehouse.query("select symbol, fingerprint from {intermediate}.int_fill_fingerprints")
    return dict(rows)


def copy_source(source: Warehouse, target: Warehouse) -> None:
    with source.connection.connect() as conn:
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(target.source_schema)))
        conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(target.source_schema, "trade_records")))
        conn.execute(sql.SQL("create table {} as select * from {}").format(
            sql.Identifier(target.source_schema, "trade_records"),
            sql.Identifier(source.source_schema, "trade_records"),
        ))
        conn.commit()


def apply_batch(
    warehouse: Warehouse, rng: random.Random, batch: int, touched_ids: set[str] | None = None
) -> set[str]:
    """New, late, corrected and deleted fills, status flips, legacy parents and a new symbol; returns symbols
    touched (and adds the order ids touched to ``touched_ids``)."""
    touched_ids = set() if touched_ids is None else touched_ids
    rows = warehouse.query(
        "select order_id, symbol, side, order_time, size, price from {raw}.trade_records order by order_id"
    )
    touched: set[str] = set()
    symbols = sorted({r[1] for r in rows})
    latest = max(r[3] for r in rows)
    new_rows = []
    for n in range(rng.randint(1, 6)):
        kind = rng.choice(["new", "late", "correct", "delete", "flip", "new_symbol", "legacy_parent",
                           "move", "resymbol", "tie"])
        victim = rows[rng.randrange(len(rows))]
        if kind in ("new", "late", "new_symbol", "tie"):
            symbol = f"NEW{batch}-USD" if kind == "new_symbol" else rng.choice(symbols)
            when = latest + timedelta(minutes=n + 1) if kind not in ("late", "tie") else victim[3] - timedelta(seconds=1)
            symbol = victim[1] if kind == "late" else symbol
            if kind == "tie":  # at another fill's very time, often of another symbol: the curve orders by id
                when = victim[3]
            new_rows.append(order(f"b{batch}-{n}", rng.choice(["buy", "sell"]), when.isoformat(),
                                  rng.uniform(0.01, 5.0), rng.uniform(1, 100), symbol=symbol))
            touched.add(symbol)
            touched_ids.add(f"b{batch}-{n}")
            continue
        elif kind == "correct":
            warehouse.execute("update {raw}.trade_records set size = size * 1.37, total_fees_usd = 0.01"
                              " where order_id = %s", (victim[0],))
            touched.add(victim[1])
        elif kind == "legacy_parent":
            # The old matcher's parent: any order, often of another symbol,
            # whose later corrections must reach this sell's legacy row.
            parent = rows[rng.randrange(len(rows))]
            warehouse.execute("update {raw}.trade_records set parent_id = %s, pnl_usd = %s, realized_profit = null"
                              " where order_id = %s", (parent[0], rng.uniform(-50, 50), victim[0]))
            touched.add(victim[1])
        elif kind == "move":  # a fill restamped (reconciliation): its trade moves on the curve
            warehouse.execute("update {raw}.trade_records set order_time = order_time + %s where order_id = %s",
                              (timedelta(hours=rng.choice([-30, -2, 3, 40])), victim[0]))
            touched.add(victim[1])
        elif kind == "resymbol":  # a fill filed under the wrong symbol, corrected
            other = rng.choice(symbols)
            warehouse.execute("update {raw}.trade_records set symbol = %s where order_id = %s", (other, victim[0]))
            touched.update({victim[1], other})
        elif kind == "delete":
            warehouse.execute("delete from {raw}.trade_records where order_id = %s", (victim[0],))
            touched.add(victim[1])
        else:
            warehouse.execute("update {raw}.trade_records set status = case status when 'filled' then 'cancelled'"
                              " else 'filled' end where order_id = %s", (victim[0],))
            touched.add(victim[1])
        touched_ids.add(victim[0])
    if new_rows:
        warehouse.load(new_rows, replace=False)
    return touched


@pytest.fixture(scope="module")
def pair(make_warehouse: Callable[[str], Warehouse]) -> tuple[Warehouse, Warehouse]:
    return make_warehouse("incremental"), make_warehouse("fullref")


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_incremental_builds_equal_a_full_build(pair: tuple[Warehouse, Warehouse], seed: int) -> None:
    incremental, full = pair
    rng = random.Random(seed)
    incremental.load(list(synthetic_rows(1500, 6, seed=seed % 1000)))
    build_fifo(incremental, "--full-refresh")
    for batch in range(3):
        before = row_versions(incremental)
        orders_before = order_versions(incremental)
        fingerprints_before = fingerprints(incremental)
        touched_ids: set[str] = set()
        touched = apply_batch(incremental, rng, batch, touched_ids)
        if batch == 1:
            # Staging built alone in between (a selection, a failed run): the
            # symbols it changed wait in its log for the fingerprints' build.
            staged = incremental.build("--select", "staging")
            assert staged.success, staged.failures
            logged = [s for (s,) in incremental.query(
                "select symbol from {staging}.base_trading_bot__orders__changed_symbols")]
            # A build by change logs symbols, each once, never the null that means every symbol.
            assert logged and None not in logged and len(logged) == len(set(logged)), logged
            touched |= apply_batch(incremental, rng, batch + 10, touched_ids)
        ((started_xid,),) = incremental.query("select pg_current_xact_id()::text::bigint % 4294967296")
        build_fifo(incremental)
        # The curve keeps every point before the first changed one: what the build wrote is a suffix.
        rewritten = [xmin > started_xid for (xmin,) in incremental.query(
            "select xmin::text::bigint from {marts}.equity_curve order by trade_seq")]
        assert rewritten == sorted(rewritten), "equity_curve rewrote points before one it kept"
        after = row_versions(incremental)
        # Staging retypes only the order ids whose raw rows changed.
        orders_after = order_versions(incremental)
        retyped = {o for o, v in orders_after.items() if orders_before.get(o) != v}
        assert retyped <= touched_ids and (set(orders_before) - set(orders_after)) <= touched_ids, (
            sorted(retyped - touched_ids)[:5]
        )
        # The build records the symbols it recomputed (its invariant tests
        # check exactly those): the ones whose fingerprint changed.
        fingerprints_after = fingerprints(incremental)
        changed = {s for s, f in fingerprints_after.items() if fingerprints_before.get(s) != f}
        recomputed = {s for (s,) in incremental.query(
            "select symbol from {intermediate}.incremental_symbol_state"
            " where model_name = 'int_fifo_allocations' and recomputed_by = last_built_by"
        )}
        assert recomputed == changed and changed <= touched, (recomputed, changed, touched)
        assert None not in verification(incremental).values(), "the build's tests passed over every symbol"
        # Symbols nobody touched keep their rows as they were written.
        for symbol in set(before) - touched:
            assert after.get(symbol) == before[symbol], f"{symbol} was rewritten though none of its fills changed"

        assert_same_as_full_build(incremental, full, *COMPARED, after=f"batch {batch}")
        assert_allocations_match_reference(incremental, after=f"batch {batch}")


def assert_allocations_match_reference(warehouse: Warehouse, after: str) -> None:
    """The built allocations equal the Python reference's FIFO of the raw filled orders."""
    raw = warehouse.query(
        "select order_id, symbol, side, order_time, size, price, total_fees_usd from {raw}.trade_records"
        " where status = 'filled'"
    )
    fills = [dict(zip(("order_id", "symbol", "side", "order_time", "size", "price", "total_fees_usd"), r))
             for r in raw]
    assert compare(sql_allocations(warehouse), fifo(reference_fills(fills))) == [], after


def assert_same_as_full_build(incremental: Warehouse, full: Warehouse, *models: str, after: str = "") -> None:
    """A full build of ``incremental``'s source in ``full`` holds the same rows, compared as text (1.5 and
    1.50 are equal Decimals but not the same row) and as multisets (identical raw copies tie on any key)."""
    copy_source(incremental, full)
    build_fifo(full, "--full-refresh")
    for model in models:
        built = Counter(tuple(map(str, r)) for r in snapshot(incremental, model))
        wanted = Counter(tuple(map(str, r)) for r in snapshot(full, model))
        extra, missing = list((built - wanted).elements())[:2], list((wanted - built).elements())[:2]
        assert (extra, missing) == ([], []), f"{model} differs from a full build after {after or 'the build'}"


def test_staging_retypes_copies_and_odd_ids_as_a_full_build(make_warehouse: Callable[[str], Warehouse]) -> None:
    """A raw table without its key: identical and conflicting copies of an id appear and go, ids are
    null or empty, a row is stamped in the future; after each change the incremental staging equals a
    full build, and rows without an id or stamped in the future are retyped at every build."""
    incremental, full = make_warehouse("stg_inc"), make_warehouse("stg_full")
    incremental.load(list(synthetic_rows(300, 3, seed=11)))
    incremental.execute("alter table {raw}.trade_records drop constraint trade_records_pkey,"
                        " alter column order_id drop not null")
    build_fifo(incremental, "--full-refresh")
    ids = [i for (i,) in incremental.query("select order_id from {raw}.trade_records order by order_id limit 3")]
    copy = "insert into {raw}.trade_records select * from {raw}.trade_records where order_id = %s"
    steps: list[tuple[str, tuple[object, ...]]] = [
        (copy, (ids[0],)),  # an identical copy: one row stays valid
        (copy + " limit 1", (ids[0],)),  # a third copy
        (copy, (ids[1],)),  # a copy that will disagree
        ("update {raw}.trade_records set size = size * 2"
         " where ctid = (select max(ctid) from {raw}.trade_records where order_id = %s)", (ids[1],)),
        ("delete from {raw}.trade_records"
         " where ctid = (select min(ctid) from {raw}.trade_records where order_id = %s)", (ids[1],)),  # one left
        ("insert into {raw}.trade_records (order_id, symbol, side, order_time, size, price, status)"
         " values (null, 'ODD-USD', 'buy', now() - interval '1 day', 1, 1, 'filled'),"
         " ('', 'ODD-USD', 'buy', now() - interval '1 day', 1, 1, 'filled'),"
         " ('later', 'ODD-USD', 'buy', now() + interval '2 days', 1, 1, 'filled')", ()),
        ("delete from {raw}.trade_records where order_id = %s", (ids[2],)),
    ]
    for statement, params in steps:
        incremental.execute(statement, params)
        before = order_versions(incremental)
        build_fifo(incremental)
        after = order_versions(incremental)
        for always in (None, "later"):
            if always in before:
                assert after[always].isdisjoint(before[always]), f"{always!r} was not retyped"
        assert_same_as_full_build(incremental, full, "base_trading_bot__orders", "fct_fills")
    reasons = dict(incremental.query(
        "select coalesce(order_id, '<null>') || ':' || coalesce(rejection_reason, 'ok'), count(*)"
        " from {staging}.base_trading_bot__orders where order_id in (%s, %s) or order_id is null"
        " or order_id in ('', 'later') group by 1", (ids[0], ids[1]),
    ))
    assert reasons == {
        f"{ids[0]}:ok": 1, f"{ids[0]}:duplicate_order_id": 2, f"{ids[1]}:ok": 1,
        "<null>:missing_order_id": 1, ":missing_order_id": 1, "later:future_order_time": 1,
    }, reasons


def verification(warehouse: Warehouse, model: str = "int_fifo_allocations") -> dict[str, str | None]:
    """Per symbol, the invocation whose tests passed over the model's rows as they are (None: not yet)."""
    return dict(warehouse.query(
        "select symbol, verified_by from {intermediate}.incremental_symbol_state where model_name = %s", (model,)
    ))


def test_a_column_a_release_stopped_writing_stays_out_of_later_builds(
    make_warehouse: Callable[[str], Warehouse],
) -> None:
    """A release that stops writing a column of an incremental model without a contract leaves it in
    the table (append_new_columns never drops one). The builds after the one that recorded the new
    build fingerprint skip dbt's schema checks (macros/settled_columns.sql); they must still insert
    what the model computes, not every column the table holds, and equal a full build."""
    warehouse, full = make_warehouse("stopped"), make_warehouse("stopped_full")
    warehouse.load(list(synthetic_rows(400, 3, seed=9)))
    build_fifo(warehouse, "--full-refresh")
    # The column as the earlier release left it: kept, empty for new rows (its rows carry the
    # current build fingerprint already, as after the first build under the new release).
    warehouse.execute(
        "alter table {staging}.base_trading_bot__orders add column retired_note text;"
        " alter table {intermediate}.int_fills_aggregated_daily add column retired_note text"
    )
    for batch in range(2):
        apply_batch(warehouse, random.Random(9 + batch), batch)
        build_fifo(warehouse)
    assert warehouse.query(
        "select count(retired_note) from {staging}.base_trading_bot__orders"
        " union all select count(retired_note) from {intermediate}.int_fills_aggregated_daily"
    ) == [(0,), (0,)], "a column the model does not compute was written"
    # Compared without it (cascade: the staging views' `select *` took it up; the comparison reads tables).
    warehouse.execute(
        "alter table {staging}.base_trading_bot__orders drop column retired_note cascade;"
        " alter table {intermediate}.int_fills_aggregated_daily drop column retired_note"
    )
    assert_same_as_full_build(warehouse, full, "base_trading_bot__orders", "int_fills_aggregated_daily")


def test_columns_an_earlier_release_stored_are_relaxed(make_warehouse: Callable[[str], Warehouse]) -> None:
    """A warehouse built by a release that stored the allocation id (not null, uniquely indexed), the
    proceeds and the holding time, with a view reading them, and a per-symbol state table without the
    invocation columns: the next plain build relaxes those columns rather than failing every insert,
    keeps the view, adds the state's columns, and what it builds equals a full build."""
    warehouse, full = make_warehouse("retired"), make_warehouse("retired_full")
    warehouse.load(list(synthetic_rows(400, 3, seed=8)))
    build_fifo(warehouse, "--full-refresh")
    warehouse.execute(
        "alter table {intermediate}.int_fifo_allocations add column allocation_id text not null default md5(random()::text),"
        " add column proceeds_usd numeric, add column holding_time interval, add column holding_seconds numeric;"
        " alter table {intermediate}.int_fifo_allocations alter column allocation_id drop default,"
        " add unique (allocation_id);"
        " create view {marts}.bi_user_view as"
        " select allocation_id, holding_time from {intermediate}.int_fifo_allocations;"
        # The per-symbol state as releases before the invocation columns made it.
        " alter table {intermediate}.incremental_symbol_state drop column recomputed_by, drop column last_built_by,"
        " drop column verified_by;"
        # Recorded under that release's build fingerprint: retiring a column changes the model's code.
        " update {intermediate}.incremental_symbol_state set build_fingerprint = 'an earlier release'"
        " where model_name = 'int_fifo_allocations'"
    )
    apply_batch(warehouse, random.Random(8), 0)
    build_fifo(warehouse)
    assert warehouse.query(
        "select count(*) from {intermediate}.incremental_symbol_state"
        " where last_built_by is null or (verified_by is null and model_name = 'int_fifo_allocations')"
    ) == [(0,)], "the state table gained its columns back, filled by this build and its tests"
    constraints = warehouse.query(
        "select conname from pg_constraint as c join pg_attribute as a"
        " on a.attrelid = c.conrelid and a.attnum = any(c.conkey)"
        " where c.conrelid = %s::regclass and a.attname in ('allocation_id', 'proceeds_usd')",
        (f'"{warehouse.intermediate}".int_fifo_allocations',),
    )
    assert constraints == [], constraints
    assert warehouse.query("select count(*) > 0 from {marts}.bi_user_view") == [(True,)]
    assert_same_as_full_build(warehouse, full, "fct_fifo_allocations", "fct_fills")
