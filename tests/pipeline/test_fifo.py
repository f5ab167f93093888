"""FIFO allocations against the independent Python reference, and invariant tests that can fail."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Warehouse, order
from reference import Fill, compare, fifo, to_numeric
from trades_warehouse import demo_data
from trades_warehouse.synthetic import synthetic_rows


def reference_fills(rows: Iterable[Mapping[str, object]]) -> list[Fill]:
    """Fills as the contract defines them, for rows that are all valid fills."""
    fills = []
    for row in rows:
        when = row["order_time"]
        if isinstance(when, str):
            when = datetime.fromisoformat(when.replace("Z", "+00:00"))
        assert isinstance(when, datetime)
        fees = row.get("total_fees_usd")
        fills.append(
            Fill(
                order_id=str(row["order_id"]),
                symbol=str(row["symbol"]).strip().upper().replace("/", "-"),
                side=str(row["side"]).strip().lower(),
                order_time=when,
                size=to_numeric(float(row["size"])),  # type: ignore[arg-type]
                price=to_numeric(float(row["price"])),  # type: ignore[arg-type]
                fees=to_numeric(float(fees)) if fees is not None else Decimal(0),  # type: ignore[arg-type]
            )
        )
    return fills


def sql_allocations(warehouse: Warehouse) -> list[tuple[str, str | None, Decimal, Decimal | None]]:
    return warehouse.query(
        "select sell_order_id, buy_order_id, allocated_size, pnl_usd from {marts}.fct_fifo_allocations"
    )


def test_generated_history_matches_reference(make_warehouse: Callable[[str], Warehouse]) -> None:
    """100,000 fills over 50 symbols: every allocation equals the reference, every invariant passes."""
    rows = list(synthetic_rows(100_000, 50, seed=11))
    warehouse = make_warehouse("generated")
    warehouse.load(rows)
    outcome = warehouse.build()
    assert outcome.success, outcome.failures
    problems = compare(sql_allocations(warehouse), fifo(reference_fills(rows)))
    assert problems == [], problems[:20]
    (unmatched,) = warehouse.query("select count(*) from {marts}.fct_fifo_allocations where is_unmatched")[0]
    assert unmatched > 0, "the history should exercise oversells"


def test_demo_data_matches_reference_and_tells_the_stories(demo_warehouse: Warehouse) -> None:
    rows = demo_data.generate_demo_rows()  # deterministic: what demo_warehouse loaded
    warehouse = demo_warehouse
    untrusted = {r["order_id"] for r in demo_data.untrusted_rows(demo_data.DEFAULT_END)}
    fills = [
        r for r in rows
        if r["order_id"] not in untrusted and (r["status"] is None or str(r["status"]).strip().lower() in FILLED)
    ]
    assert compare(sql_allocations(warehouse), fifo(reference_fills(fills))) == []
    (quarantined,) = warehouse.query("select count(*) from {staging}.stg_trading_bot__quarantined_orders")[0]
    assert quarantined == len(untrusted)
    ids = demo_data.STORY_ORDER_IDS
    stories = dict(
        (row[0], row[1:])
        for row in warehouse.query(
            "select a.sell_order_id, a.buy_order_id, sum(a.pnl_usd) from {marts}.fct_fifo_allocations as a"
            " where a.sell_order_id = any(%s) group by 1, 2",
            ([ids["sapien_sell"], ids["avax_sell"], ids["pengu_sell"]],),
        )
    )
    assert stories[ids["sapien_sell"]][0] == ids["sapien_buy"], "the buy two minutes before, not September's"
    assert abs(stories[ids["avax_sell"]][1] - Decimal("-0.27")) < Decimal("0.01")
    assert abs(stories[ids["pengu_sell"]][1] - Decimal("-0.97")) < Decimal("0.01")


FILLED = {"filled", "done"}

SAPIEN = [
    order("sep-buy", "buy", "2025-09-10T04:46:00Z", 213.1, 0.2349, symbol="SAPIEN-USD"),
    order("sep-sell", "sell", "2025-09-12T08:00:00Z", 213.1, 0.25, symbol="SAPIEN-USD"),
    order("nov-buy", "buy", "2025-11-01T08:00:00Z", 100.0, 0.2, symbol="SAPIEN-USD"),
    order("nov-sell", "sell", "2025-11-02T08:00:00Z", 40.0, 0.21, symbol="SAPIEN-USD"),
    order("dec-buy", "buy", "2025-12-03T23:11:00Z", 188.9, 0.17477, symbol="SAPIEN-USD"),
    order("dec-sell", "sell", "2025-12-03T23:13:00Z", 248.9, 0.17357, symbol="SAPIEN-USD"),
    order("dec-late", "sell", "2025-12-04T09:00:00Z", 10.0, 0.18, symbol="SAPIEN-USD"),
    order("other-buy", "buy", "2025-11-01T08:00:00Z", 50.0, 1.0, symbol="OTHER-USD"),
]


@pytest.fixture(scope="module")
def sapien(build_warehouse: Callable[..., Warehouse]) -> Warehouse:
    return build_warehouse("sapien", SAPIEN)


def test_sapien_story_matches_reference(sapien: Warehouse) -> None:
    assert compare(sql_allocations(sapien), fifo(reference_fills(SAPIEN))) == []
    rows = sapien.query(
        "select buy_order_id, allocated_size from {marts}.fct_fifo_allocations"
        " where sell_order_id = 'dec-sell' order by buy_time"
    )
    assert rows == [("nov-buy", Decimal("60")), ("dec-buy", Decimal("188.9"))]


# Each corruption imitates one way a matcher can go wrong; the named invariant
# test must catch it (others may fail too).
CORRUPTIONS = {
    "incident: sell pointed at the exhausted September lot": (
        "update {intermediate}.int_fifo_allocations set buy_order_id = 'sep-buy', buy_time = '2025-09-10T04:46:00Z'"
        " where sell_order_id = 'dec-sell' and buy_order_id = 'dec-buy'",
        "fifo_order",
    ),
    "younger lot drawn while an older one is open": (
        "update {intermediate}.int_fifo_allocations set buy_order_id = 'dec-buy', buy_time = '2025-12-03T23:11:00Z'"
        " where sell_order_id = 'dec-sell' and buy_order_id = 'nov-buy';"
        " update {intermediate}.int_fifo_allocations set buy_order_id = 'nov-buy', buy_time = '2025-11-01T08:00:00Z'"
        " where sell_order_id = 'dec-late'",
        "fifo_order",
    ),
    "lot gives more than its size": (
        "update {intermediate}.int_fifo_allocations set allocated_size = allocated_size + 1"
        " where sell_order_id = 'dec-sell' and buy_order_id = 'dec-buy'",
        "buys_never_overdrawn",
    ),
    "sell allocations do not add up": (
        "delete from {intermediate}.int_fifo_allocations where sell_order_id = 'nov-sell'",
        "sell_allocations_sum_to_size",
    ),
    "unmatched while inventory remained": (
        "update {intermediate}.int_fifo_allocations set buy_order_id = null, is_unmatched = true"
        " where sell_order_id = 'nov-sell'",
        "unmatched_only_when_exhausted",
    ),
    "lot of another symbol": (
        "update {intermediate}.int_fifo_allocations set buy_order_id = 'other-buy'"
        " where sell_order_id = 'dec-late'",
        "buys_never_overdrawn",
    ),
    "buy after its sell": (
        "update {intermediate}.int_fifo_allocations set buy_time = '2026-01-01T00:00:00Z'"
        " where sell_order_id = 'nov-sell'",
        "buy_not_after_sell",
    ),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_invariant_tests_catch_broken_allocations(sapien: Warehouse, case: str) -> None:
    statement, expected_test = CORRUPTIONS[case]
    sapien.execute(statement)
    try:
        outcome = sapien.dbt("test", "--select", "int_fifo_allocations", "--exclude", "test_type:unit")
        failed = " ".join(outcome.failures)
        assert not outcome.success
        assert expected_test in failed, failed
    finally:
        # A full rebuild: an incremental one keeps the tampered rows, whose
        # symbols' fills did not change (tampering with a model is not data).
        rebuilt = sapien.dbt("run", "--full-refresh", "--select", "int_fifo_allocations")
        assert rebuilt.success


def test_invariants_hold_with_sub_dust_leftovers(build_warehouse: Callable[..., Warehouse]) -> None:
    """Leftovers far below the dust on several lots are allocated exactly; every invariant passes."""
    rows = [
        order("b1", "buy", "2025-01-01T10:00:00Z", 1.0, 10.0),
        order("b2", "buy", "2025-01-01T10:01:00Z", 1.0, 10.0),
        order("b3", "buy", "2025-01-01T10:02:00Z", 1.0, 10.0),
        order("s1", "sell", "2025-01-01T11:00:00Z", 0.999999994, 10.0),
        order("s2", "sell", "2025-01-01T12:00:00Z", 1.000000012, 10.0),
        order("s3", "sell", "2025-01-01T13:00:00Z", 2.5, 10.0),
    ]
    warehouse = build_warehouse("dust", rows)
    assert compare(sql_allocations(warehouse), fifo(reference_fills(rows))) == []


def test_positions_as_of_a_past_moment(build_warehouse: Callable[..., Warehouse]) -> None:
    """With `as_of` set, lots and their remaining sizes are those of that moment."""
    warehouse = build_warehouse("asof", SAPIEN, dbt_vars={"as_of": "2025-11-01 12:00:00+00"})
    open_lots = warehouse.query(
        "select buy_order_id, remaining_size from {marts}.fct_buy_lots where is_open order by buy_order_id"
    )
    assert open_lots == [("nov-buy", Decimal("100")), ("other-buy", Decimal("50"))]


def test_invariant_tests_pass_on_the_intact_story(sapien: Warehouse) -> None:
    outcome = sapien.dbt("test", "--select", "int_fifo_allocations fct_buy_lots", "--exclude", "test_type:unit")
    assert outcome.success, outcome.failures


# --- property-based: random histories through the compiled FIFO SQL ----------

START = datetime(2025, 1, 1, tzinfo=UTC)
SIZES = st.one_of(
    st.sampled_from([0.1, 0.2, 0.3, 1.0, 2.5, 1e-9, 0.30000000000000004, 1 / 3]),
    st.floats(min_value=1e-6, max_value=1e4, allow_nan=False, allow_infinity=False),
)
STEP = st.tuples(
    st.sampled_from(["buy", "sell"]),
    SIZES,
    st.sampled_from([0, 0, 1, 60]),  # seconds after the previous fill: ties are common
    st.floats(min_value=0.01, max_value=1000, allow_nan=False),
    # Fees as a share of the notional: staging quarantines fees above 10 % of it.
    st.sampled_from([0.0, 0.0, 0.001, 0.0737]),
)
HISTORIES = st.lists(st.lists(STEP, min_size=1, max_size=25), min_size=1, max_size=4)


def history_rows(history: list[list[tuple[str, float, int, float, float]]]) -> list[dict[str, object]]:
    rows = []
    for s, steps in enumerate(history):
        when = START
        for n, (side, size, gap, price, fees) in enumerate(steps):
            when += timedelta(seconds=gap)
            # Ids do not follow time, so ties are decided by side then id.
            rows.append(order(f"{(n * 7919) % 101:03d}-{s}-{n}", side, when.isoformat(), size, price,
                              fees=fees * size * price, symbol=f"P{s}-USD"))
    return rows


@pytest.fixture(scope="module")
def compiled_fifo(build_warehouse: Callable[..., Warehouse]) -> tuple[Warehouse, str, str]:
    warehouse = build_warehouse("property", SAPIEN)
    # Compiled as a full build: incremental SQL reads only the symbols whose
    # fingerprints changed, and these examples bypass the fingerprints.
    outcome = warehouse.dbt("compile", "--full-refresh", "--select", "base_trading_bot__orders int_fifo_allocations")
    assert outcome.success, outcome.failures
    compiled = Path(warehouse.target_path, "compiled", "trades_warehouse", "models")
    staging = (compiled / "staging" / "trading_bot" / "base" / "base_trading_bot__orders.sql").read_text()
    allocations = (compiled / "intermediate" / "int_fifo_allocations.sql").read_text()
    return warehouse, staging, allocations


def _literal(compiled_sql: str) -> str:
    return compiled_sql.replace("{", "{{").replace("}", "}}")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=HISTORIES)
def test_random_histories_match_reference(
    compiled_fifo: tuple[Warehouse, str, str], history: list[list[tuple[str, float, int, float, float]]]
) -> None:
    """Each example replaces the source rows and reruns the compiled staging and FIFO SQL."""
    warehouse, staging, allocations = compiled_fifo
    rows = history_rows(history)
    warehouse.load(rows)
    warehouse.execute(
        "truncate {staging}.base_trading_bot__orders;"
        " insert into {staging}.base_trading_bot__orders " + _literal(staging)
    )
    actual = warehouse.query(
        "select sell_order_id, buy_order_id, allocated_size, pnl_usd from (" + _literal(allocations) + ") as fifo"
    )
    problems = compare(actual, fifo(reference_fills(rows)))
    assert problems == [], problems


# --- property-based: residue-heavy long histories through a real dbt build ---
#
# The bot's own shape: sizes at 8 significant digits, sells of a fraction of
# what is held (so residues far below any dust pile up on lots), 1% oversells,
# long histories per symbol. Each example is a dbt build of staging and the
# FIFO models with every test on them, which must be green, and an exact match
# with the reference.


def eight_digits(value: float) -> float:
    return float(f"{value:.8g}")


RESIDUE_STEP = st.tuples(
    st.integers(0, 99),  # < 45 buy, < 1 oversell, else sell a fraction of what is held
    st.floats(min_value=1e-3, max_value=5e4, allow_nan=False, allow_infinity=False),
    st.floats(min_value=0.01, max_value=1.0, allow_nan=False),
    st.floats(min_value=1e-4, max_value=1e4, allow_nan=False),
    st.sampled_from([0, 0, 1, 3600]),
)


@st.composite
def residue_histories(draw: st.DrawFn) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for s in range(draw(st.integers(1, 3))):
        held = Decimal(0)
        when = START
        for n, (roll, size, fraction, price, gap) in enumerate(draw(st.lists(RESIDUE_STEP, min_size=60, max_size=250))):
            when += timedelta(seconds=gap)
            if roll < 45 or held <= Decimal("1e-9"):
                side, quantity = "buy", eight_digits(size)
                held += to_numeric(quantity)
            else:
                side = "sell"
                quantity = eight_digits(float(held) * (1.01 if roll < 46 else fraction))
                held = max(Decimal(0), held - to_numeric(quantity))
            rows.append(order(f"r{s}-{n:04d}", side, when.isoformat(), quantity, eight_digits(price),
                              fees=eight_digits(quantity * price * 0.001) if n % 3 else 0.0, symbol=f"R{s}-USD"))
    return rows


@pytest.fixture(scope="module")
def residue_warehouse(make_warehouse: Callable[[str], Warehouse]) -> Warehouse:
    return make_warehouse("residue")


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rows=residue_histories())
def test_residue_heavy_histories_build_green_and_exact(residue_warehouse: Warehouse, rows: list[dict[str, object]]) -> None:
    residue_warehouse.load(rows)
    outcome = residue_warehouse.build(
        "--select",
        "path:models/staging int_fill_fingerprints int_reporting_moment int_fifo_allocations int_closed_trades"
        " int_lot_balances fct_fifo_allocations fct_buy_lots fct_fills",
    )
    names = {result.node.name for result in outcome.results.results}  # type: ignore[union-attr]
    assert {"fifo_order_int_fifo_allocations_ref_stg_trading_bot__fills_"} <= names
    assert outcome.success, outcome.failures
    problems = compare(sql_allocations(residue_warehouse), fifo(reference_fills(rows)))
    assert problems == [], problems[:10]
