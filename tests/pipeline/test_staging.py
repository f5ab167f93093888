"""Staging on a real PostgreSQL: normalisation, quarantine, and nothing lost."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from conftest import Warehouse, failed_test_names, order


MESSY_ROWS = [
    order("b1", "BUY", "2025-12-01T10:00:00Z", 2.0, 10.0, symbol=" avax/usd ", trigger={"trigger": "roc_buy"}),
    order("s1", " Sell ", "2025-12-01T11:00:00Z", 1.0, 11.0, symbol="avax-usd", trigger="take_profit", status=None),
    order("c1", "buy", "2025-12-01T11:30:00Z", 1.0, 10.0, status="cancelled"),
    order("o1", "buy", "2025-12-01T11:31:00Z", 0.0, 0.0, status="open"),
    order("bad-size", "buy", "2025-12-01T12:00:00Z", -1.0, 10.0),
    order("nan-price", "buy", "2025-12-01T12:00:00Z", 1.0, float("nan")),
    order("inf-size", "buy", "2025-12-01T12:00:00Z", float("inf"), 10.0),
    order("neg-fees", "sell", "2025-12-01T12:00:00Z", 1.0, 10.0, fees=-0.5),
    order("odd-side", "hold", "2025-12-01T12:00:00Z", 1.0, 10.0),
    order("no-time", "buy", "", 1.0, 10.0),
    order("future", "buy", "2999-01-01T00:00:00Z", 1.0, 10.0),
]


@pytest.fixture(scope="module")
def messy(build_warehouse: Callable[..., Warehouse]) -> Warehouse:
    return build_warehouse("staging", MESSY_ROWS)


def test_every_raw_row_lands_in_exactly_one_place(messy: Warehouse) -> None:
    (raw,), = messy.query("select count(*) from {raw}.trade_records")
    parts = messy.query(
        "select 'fill', order_id from {staging}.stg_trading_bot__fills"
        " union all select 'non_fill', order_id from {staging}.stg_trading_bot__non_fill_orders"
        " union all select 'quarantine', order_id from {staging}.stg_trading_bot__quarantined_orders"
    )
    assert raw == len(parts) == len(MESSY_ROWS)
    assert sorted(order_id for _, order_id in parts) == sorted(str(r["order_id"]) for r in MESSY_ROWS)
    assert {o for kind, o in parts if kind == "fill"} == {"b1", "s1"}
    assert {o for kind, o in parts if kind == "non_fill"} == {"c1", "o1"}


def test_quarantine_reasons(messy: Warehouse) -> None:
    reasons = dict(messy.query("select order_id, reason from {staging}.stg_trading_bot__quarantined_orders"))
    assert reasons == {
        "bad-size": "invalid_size",
        "nan-price": "invalid_price",
        "inf-size": "invalid_size",
        "neg-fees": "invalid_fees",
        "odd-side": "unknown_side",
        "no-time": "missing_order_time",
        "future": "future_order_time",
    }


def test_normalised_fills(messy: Warehouse) -> None:
    rows = messy.query(
        "select order_id, symbol, side, status, trigger_name from {staging}.stg_trading_bot__fills order by order_id"
    )
    assert rows == [
        ("b1", "AVAX-USD", "buy", "filled", "roc_buy"),
        ("s1", "AVAX-USD", "sell", "legacy_fill", "take_profit"),
    ]


def test_quarantined_rows_never_reach_fifo(messy: Warehouse) -> None:
    rows = messy.query("select sell_order_id, buy_order_id, allocated_size from {marts}.fct_fifo_allocations")
    assert [(s, b, float(q)) for s, b, q in rows] == [("s1", "b1", 1.0)]


def test_conflicting_duplicates_are_quarantined(make_warehouse: Callable[[str], Warehouse]) -> None:
    """A source table without its primary key can repeat an order id."""
    warehouse = make_warehouse("dupes")
    warehouse.load([order("seed", "buy", "2025-12-01T09:00:00Z", 1.0, 10.0)])
    warehouse.execute("alter table {raw}.trade_records drop constraint trade_records_pkey")
    warehouse.execute(
        "insert into {raw}.trade_records (order_id, symbol, side, order_time, size, price, status) values"
        " ('twin', 'A-USD', 'buy', '2025-12-01', 1, 10, 'filled'),"
        " ('twin', 'A-USD', 'buy', '2025-12-01', 1, 10, 'filled'),"
        " ('clash', 'A-USD', 'buy', '2025-12-01', 1, 10, 'filled'),"
        " ('clash', 'A-USD', 'buy', '2025-12-01', 1, 12, 'filled')"
    )
    outcome = warehouse.build()
    assert outcome.success, outcome.failures
    quarantined = sorted(warehouse.query("select order_id, reason from {staging}.stg_trading_bot__quarantined_orders"))
    assert quarantined == [
        ("clash", "conflicting_duplicate_order_id"),
        ("clash", "conflicting_duplicate_order_id"),
        ("twin", "duplicate_order_id"),
    ]
    fills = sorted(o for (o,) in warehouse.query("select order_id from {staging}.stg_trading_bot__fills"))
    assert fills == ["seed", "twin"]


def test_partition_test_fails_when_a_row_goes_missing(messy: Warehouse) -> None:
    """The nothing-lost test can fail: hide a quarantined row and it must."""
    # Cascade: the compatibility view trade_records_quarantine reads it (rebuilt below).
    messy.execute("drop view {staging}.stg_trading_bot__quarantined_orders cascade")
    messy.execute(
        "create view {staging}.stg_trading_bot__quarantined_orders as"
        " select order_id, rejection_reason as reason from {staging}.base_trading_bot__orders"
        " where rejection_reason is not null and order_id <> 'future'"
    )
    try:
        outcome = messy.dbt("test", "--select", "test_name:every_raw_row_lands_once")
        assert not outcome.success
        assert any("every_raw_row_lands_once" in failure for failure in outcome.failures)
    finally:
        messy.build("--select", "stg_trading_bot__quarantined_orders trade_records_quarantine")


def test_orders_written_after_the_read_are_the_next_builds(make_warehouse: Callable[[str], Warehouse]) -> None:
    """The bot writes while the warehouse builds: the nothing-lost test counts the raw rows the build read.

    Counted in the live table, an order written (or deleted) between the
    staging build and its test failed a correct scheduled build.
    """
    rows = [order(f"r{i}", "buy" if i % 2 else "sell", f"2025-12-01T1{i}:00:00Z", 1.0, 10.0) for i in range(4)]
    warehouse = make_warehouse("staging_race")
    warehouse.load(rows)
    for _ in range(2):  # the second build retypes by change
        outcome = warehouse.build("--select", "staging")
        assert outcome.success, outcome.failures
    lands_once = ("test", "--select", "test_name:every_raw_row_lands_once")

    warehouse.load([order("late", "buy", "2025-12-02T10:00:00Z", 1.0, 10.0)], replace=False)
    warehouse.execute("delete from {raw}.trade_records where order_id = 'r1'")
    outcome = warehouse.dbt(*lands_once)
    assert outcome.success, outcome.failures
    read = dict(warehouse.query("select order_key, count(*) from {staging}.base_trading_bot__orders__raw_read group by 1"))
    assert read == {"r0": 1, "r1": 1, "r2": 1, "r3": 1}, "what the build read, not the live table"

    warehouse.build("--select", "staging")
    fills = sorted(o for (o,) in warehouse.query("select order_id from {staging}.stg_trading_bot__fills"))
    assert fills == ["late", "r0", "r2", "r3"], "the next build lands the new order and drops the deleted one"
    retyped = sorted(o for (o,) in warehouse.query("select order_id from {staging}.base_trading_bot__orders__retyped_ids"))
    assert retyped == ["late", "r1"]
    assert warehouse.dbt(*lands_once).success

    # Still a test that fails: a part whose row changed id (as many rows, so
    # only the keys' hash sums tell, and then the per-id counts name it)...
    warehouse.execute("update {staging}.base_trading_bot__orders set order_id = 'r9' where order_id = 'r3'")
    outcome = warehouse.dbt(*lands_once)
    assert not outcome.success
    assert any("Got 2 results" in failure for failure in outcome.failures), outcome.failures  # r3 and r9
    warehouse.execute("update {staging}.base_trading_bot__orders set order_id = 'r3' where order_id = 'r9'")
    assert warehouse.dbt(*lands_once).success
    # ... and a part that loses a row the build read.
    warehouse.execute("delete from {staging}.base_trading_bot__orders where order_id = 'r2'")
    outcome = warehouse.dbt(*lands_once)
    assert not outcome.success


def test_an_order_written_while_staging_retypes_it_fails_no_build(make_warehouse: Callable[[str], Warehouse]) -> None:
    """Staging records what it read in one statement and reads the retyped ids' rows in the next: an order
    the bot deletes or copies in between is typed as the second read saw it. Its count then differs from the
    record's, and a correct build failed its nothing-lost test. Such an id is not reported when its raw rows
    have been written since the read and are exactly those typed. Counts that differ for rows nobody wrote
    since the read, or typed rows that are not the raw ones, still fail.

    The moment between two statements of one transaction cannot be hit on demand, so the race is simulated
    by the state it leaves: the bot's writes are built as usual, then the read record is put back as it was
    before them."""
    warehouse = make_warehouse("staging_retype_race")
    warehouse.load([order(f"w{i}", "buy", f"2025-12-01T1{i}:00:00Z", 1.0, 10.0) for i in range(5)])
    for _ in range(2):
        assert warehouse.build("--select", "staging").success
    lands_once = ("test", "--select", "test_name:every_raw_row_lands_once")
    base, read = "{staging}.base_trading_bot__orders", "{staging}.base_trading_bot__orders__raw_read"
    # The loader keys its table by order id; the bot's own table may have no key, and copies of a row.
    warehouse.execute("alter table {raw}.trade_records drop constraint trade_records_pkey")

    warehouse.execute("update {raw}.trade_records set size = 2 where order_id in ('w1', 'w2')")
    outcome = warehouse.build("--select", "staging")
    assert outcome.success, outcome.failures
    retyped = sorted(o for (o,) in warehouse.query("select order_id from {staging}.base_trading_bot__orders__retyped_ids"))
    assert retyped == ["w1", "w2"]
    as_read = warehouse.query(f"select order_key, raw_row_version from {read} where order_key in ('w1', 'w2')")
    # The bot deleted w1 and wrote a second copy of w2 after the record, before the model read them.
    warehouse.execute("delete from {raw}.trade_records where order_id = 'w1'")
    warehouse.execute("insert into {raw}.trade_records select * from {raw}.trade_records where order_id = 'w2'")
    outcome = warehouse.build("--select", "staging")
    assert outcome.success, outcome.failures
    warehouse.execute(f"delete from {read} where order_key in ('w1', 'w2')")
    for key, version in as_read:
        warehouse.execute(f"insert into {read} (order_key, raw_row_version) values (%s, %s)", (key, version))
    outcome = warehouse.dbt(*lands_once)
    assert outcome.success, outcome.failures

    # Nobody wrote w3 or w4 since the read: a typed row lost or doubled is still reported, by id.
    warehouse.execute(f"delete from {base} where order_id = 'w3'")
    warehouse.execute(f"insert into {base} select * from {base} where order_id = 'w4'")
    outcome = warehouse.dbt(*lands_once)
    assert not outcome.success
    assert any("Got 2 results" in failure for failure in outcome.failures), outcome.failures
    # Nor is an id whose typed rows are not its raw rows, written since the read or not.
    warehouse.execute(f"delete from {base} where order_id = 'w4'")  # both copies: the next build types it again
    warehouse.execute(f"delete from {base} where order_id = 'w2'")
    outcome = warehouse.dbt(*lands_once)
    assert any("Got 3 results" in failure for failure in outcome.failures), outcome.failures

    # The next build types what the raw table holds, and its test counts every id again.
    outcome = warehouse.build("--select", "staging")
    assert outcome.success, outcome.failures
    retyped = sorted(o for (o,) in warehouse.query("select order_id from {staging}.base_trading_bot__orders__retyped_ids"))
    assert retyped == ["w2", "w3", "w4"], "w1 was typed as deleted already; the others differ from their raw rows"
    typed = dict(warehouse.query(f"select order_id, count(*) from {base} group by 1"))
    assert typed == {"w0": 1, "w2": 2, "w3": 1, "w4": 1}


def test_changed_orders_are_found_by_row_version_and_by_hash_for_a_view(
    make_warehouse: Callable[[str], Warehouse],
) -> None:
    """Staging finds changed order ids by the raw rows' versions (tableoid, xmin, ctid), not by hashing
    every row: only the ids written since the last build are retyped, a rewrite of the table that hands
    a deleted row's version to another order cannot hide the deletion, and a source that is a view (no
    row versions) is compared by its rows' md5."""
    warehouse = make_warehouse("staging_versions")
    # One load, one transaction: every row has the same xmin.
    warehouse.load([order(f"v{i}", "buy", f"2025-12-01T1{i}:00:00Z", 1.0, 10.0) for i in range(4)])

    def build_and_retyped() -> list[str]:
        outcome = warehouse.build("--select", "staging")
        assert outcome.success, outcome.failures
        return sorted(o for (o,) in warehouse.query("select order_id from {staging}.base_trading_bot__orders__retyped_ids"))

    def sizes() -> dict[str, Decimal]:
        return dict(warehouse.query("select order_id, size from {staging}.stg_trading_bot__fills"))

    warehouse.build("--select", "staging")
    assert build_and_retyped() == []
    warehouse.execute("update {raw}.trade_records set size = 2.5 where order_id = 'v1'")
    warehouse.execute("update {raw}.trade_records set size = size where order_id = 'v2'")  # a new version, same text
    assert build_and_retyped() == ["v1", "v2"]
    assert sizes() == {"v0": 1, "v1": Decimal("2.5"), "v2": 1, "v3": 1}

    # v0 was first on the first page, v3 fourth; the rewrite keeps xmin and
    # compacts: v3 moves into a slot that held another row of its load.
    warehouse.execute("delete from {raw}.trade_records where order_id = 'v0'")
    with warehouse.connection.connect(autocommit=True) as conn:
        conn.execute(f"vacuum full {warehouse.source_schema}.trade_records")
    retyped = build_and_retyped()
    assert {"v0", "v3"} <= set(retyped), retyped
    assert sizes() == {"v1": Decimal("2.5"), "v2": 1, "v3": 1}, "the deleted order is gone"
    assert build_and_retyped() == []

    warehouse.execute("alter table {raw}.trade_records rename to trade_records_table")
    warehouse.execute("create view {raw}.trade_records as select * from {raw}.trade_records_table")
    assert build_and_retyped() == ["v1", "v2", "v3"]  # hashes where versions were
    assert build_and_retyped() == []
    warehouse.execute("update {raw}.trade_records_table set size = size where order_id = 'v2'")
    assert build_and_retyped() == [], "a view's rows are compared by text: an update to the same text is no change"
    warehouse.execute("update {raw}.trade_records_table set size = 3 where order_id = 'v3'")
    assert build_and_retyped() == ["v3"]
    assert sizes() == {"v1": Decimal("2.5"), "v2": 1, "v3": 3}
    # Identical copies share a hash: they are counted per id, not matched once.
    warehouse.execute("alter table {raw}.trade_records_table drop constraint trade_records_pkey")
    warehouse.execute("insert into {raw}.trade_records_table select * from {raw}.trade_records_table where order_id = 'v2'")
    assert build_and_retyped() == ["v2"]
    copies = "select count(*) from {staging}.base_trading_bot__orders where order_id = 'v2'"
    assert warehouse.query(copies) == [(2,)]
    warehouse.execute(
        "delete from {raw}.trade_records_table"
        " where ctid = (select max(ctid) from {raw}.trade_records_table where order_id = 'v2')"
    )
    assert build_and_retyped() == ["v2"]
    assert warehouse.query(copies) == [(1,)]
    assert warehouse.dbt("test", "--select", "test_name:every_raw_row_lands_once").success


STAGING = ("--select", "staging")


def unverified_orders(warehouse: Warehouse) -> set[str] | None:
    """The typed orders no passing build has tested yet (None: no marks, every order is)."""
    present = warehouse.query(
        "select to_regclass(%s) is not null and to_regclass(%s) is not null",
        (f'"{warehouse.staging}"."base_trading_bot__orders__unverified_ids"',
         f'"{warehouse.staging}"."base_trading_bot__orders__verified_tests"'),
    )
    if not present[0][0]:
        return None
    return {str(order_id) for (order_id,) in warehouse.query(
        "select order_id from {staging}.base_trading_bot__orders__unverified_ids")}


def test_staging_tests_read_the_orders_retyped_since_they_last_passed(
    make_warehouse: Callable[[str], Warehouse],
) -> None:
    """In a build, staging's row and key tests read the orders retyped since a build last passed over
    them (and rows without an id): an order a `dbt run` retyped, or a build whose tests failed, is
    tested by every build until one passes. `dbt test` reads every row, marks nothing when it passes,
    and its failure takes the marks back. A full build of the typed orders drops the marks."""
    warehouse = make_warehouse("orders_marks")
    warehouse.load([order(f"b{i}", "buy", f"2025-12-01T1{i}:00:00Z", 1.0 + i, 10.0) for i in range(4)])
    assert warehouse.build(*STAGING).success
    assert unverified_orders(warehouse) == set(), "a passing full build verifies every order"

    # A plain run retypes two new orders: they are not verified until a build tests them.
    warehouse.load([order("late", "buy", "2025-12-02T10:00:00Z", 1.0, 10.0),
                    order("later", "sell", "2025-12-02T11:00:00Z", 1.0, 11.0)], replace=False)
    assert warehouse.dbt("run", *STAGING).success
    assert unverified_orders(warehouse) == {"late", "later"}
    # A passing `dbt test` reads them but marks nothing: only a build makes the views it vouches for.
    assert warehouse.dbt("test", *STAGING, "--exclude", "test_type:unit").success
    assert unverified_orders(warehouse) == {"late", "later"}

    # A bug wrote one of them wrong, and a verified order too (behind dbt's back: no build retyped it).
    warehouse.execute("update {staging}.base_trading_bot__orders set size = -1 where order_id = 'late'")
    warehouse.execute("update {staging}.base_trading_bot__orders set fees_usd = -1 where order_id = 'b1'")
    for attempt in range(2):
        failed = failed_test_names(warehouse.build(*STAGING))
        assert "at_least_stg_trading_bot__fills_size__0" in failed, (attempt, failed)
        assert "at_least_stg_trading_bot__fills_fees_usd__0" not in failed, "a verified order is not read again"
        assert unverified_orders(warehouse) == {"late", "later"}, "a failed build verifies nothing"

    # Copies of typed rows (each matches its raw row, so no build retypes them): the uniqueness test
    # reads the keys not yet verified.
    copy = "insert into {staging}.base_trading_bot__orders select * from {staging}.base_trading_bot__orders"
    warehouse.execute(copy + " where order_id = 'b2'")
    failed = failed_test_names(warehouse.build(*STAGING))
    assert "unique_stg_trading_bot__fills_order_id" not in failed, "b2 is verified: its key is not read"
    warehouse.execute(copy + " where order_id = 'later'")
    failed = failed_test_names(warehouse.build(*STAGING))
    assert "unique_stg_trading_bot__fills_order_id" in failed, failed

    # `dbt test` reads every row: the verified order's fees are found, and the marks go.
    tested = warehouse.dbt("test", *STAGING, "--exclude", "test_type:unit")
    assert "at_least_stg_trading_bot__fills_fees_usd__0" in failed_test_names(tested)
    assert unverified_orders(warehouse) is None
    assert "at_least_stg_trading_bot__fills_fees_usd__0" in failed_test_names(warehouse.build(*STAGING))

    # Rebuilt in full, every order passes and is verified again; a passing build by change keeps them so.
    assert warehouse.build(*STAGING, "--full-refresh").success
    assert unverified_orders(warehouse) == set()
    warehouse.load([order("new", "buy", "2025-12-03T10:00:00Z", 1.0, 10.0)], replace=False)
    assert warehouse.build(*STAGING).success
    assert unverified_orders(warehouse) == set()
