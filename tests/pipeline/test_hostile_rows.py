"""Hostile raw rows: each lands once, none stops a build, none changes a valid history.

Rows are written with SQL rather than the loader, so that values the loader
would refuse (infinite and BC timestamps, denormals, NaN) reach trade_records
the way a bot's own bug would put them there.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from conftest import Warehouse, order
from reference import compare, fifo
from test_fifo import reference_fills, sql_allocations

RAW_COLUMNS = (
    "order_id", "symbol", "side", "order_time", "size", "price", "total_fees_usd", "status", "source", "trigger",
)


def insert_raw(warehouse: Warehouse, rows: Sequence[Mapping[str, object]]) -> None:
    """Insert rows as text cast by PostgreSQL: '-infinity', 'NaN' and '5e-324' arrive as such."""
    statement = sql.SQL(
        "insert into {} ({}) values (%s, %s, %s, %s::timestamptz, %s::float8, %s::float8, %s::float8,"
        " %s, %s, %s::jsonb)"
    ).format(
        sql.Identifier(warehouse.source_schema, "trade_records"),
        sql.SQL(", ").join(sql.Identifier(c) for c in RAW_COLUMNS),
    )
    values = []
    for row in rows:
        trigger = row.get("trigger")
        values.append((
            row["order_id"], row.get("symbol"), row.get("side"),
            None if row.get("order_time") is None else str(row["order_time"]),
            *(None if row.get(c) is None else repr(row[c]) for c in ("size", "price", "total_fees_usd")),
            row.get("status"), row.get("source"),
            None if trigger is None else json.dumps(trigger),
        ))
    with warehouse.connection.connect() as conn:
        with conn.cursor() as cursor:
            cursor.executemany(statement, values)
        conn.commit()


VALID = [
    order("b1", "buy", "2025-12-01T10:00:00Z", 3.0, 10.0),
    order("b2", "buy", "2025-12-01T11:00:00Z", 3.0, 11.0, fees=0.05),
    # The same product typed with a tab, a zero-width space, a no-break space,
    # a right-to-left mark and a newline: one symbol, so no phantom unmatched sells.
    order("s1", "sell", "2025-12-02T10:00:00Z", 1.0, 12.0, symbol="AVAX-USD\t"),
    order("s2", "sell", "2025-12-02T11:00:00Z", 1.0, 12.0, symbol="AVAX\u200b-USD"),
    order("s3", "sell", "2025-12-02T12:00:00Z", 1.0, 12.0, symbol="\u00a0avax-usd"),
    order("s4", "sell", "2025-12-02T13:00:00Z", 1.0, 12.0, symbol="AVAX-USD\u200f", status="filled\n"),
    order("s5", "sell", "2025-12-02T14:00:00Z", 1.0, 12.0, symbol="AVAX-USD\n", status=" FILLED\u200b"),
]

# order id -> (row, the reason staging must give)
HOSTILE: dict[str, tuple[dict[str, object], str]] = {
    "t-minus-infinity": (order("t-minus-infinity", "buy", "-infinity", 1.0, 10.0), "order_time_before_earliest"),
    "t-4713bc": (order("t-4713bc", "buy", "4713-01-01 00:00:00+00 BC", 1.0, 10.0), "order_time_before_earliest"),
    "t-1970": (order("t-1970", "buy", "1970-01-01 00:00:00+00", 1.0, 10.0), "order_time_before_earliest"),
    "t-infinity": (order("t-infinity", "sell", "infinity", 1.0, 10.0), "future_order_time"),
    "t-1970-cancelled": (
        order("t-1970-cancelled", "buy", "1970-01-01 00:00:00+00", 1.0, 10.0, status="cancelled"),
        "order_time_before_earliest",
    ),
    "size-1e308": (order("size-1e308", "buy", "2025-12-01T12:00:00Z", 1e308, 10.0), "size_out_of_range"),
    "size-denormal": (order("size-denormal", "buy", "2025-12-01T12:00:00Z", 5e-324, 10.0), "size_out_of_range"),
    "price-1e308": (order("price-1e308", "sell", "2025-12-01T12:00:00Z", 1.0, 1e308), "price_out_of_range"),
    "notional": (order("notional", "buy", "2025-12-01T12:00:00Z", 1e6, 1e8), "notional_out_of_range"),
    "fees-1e308": (order("fees-1e308", "buy", "2025-12-01T12:00:00Z", 1.0, 10.0, fees=1e308), "fees_above_notional_share"),
    "fees-half": (order("fees-half", "buy", "2025-12-01T12:00:00Z", 1.0, 10.0, fees=5.0), "fees_above_notional_share"),
    "status-empty": (order("status-empty", "buy", "2025-12-01T12:00:00Z", 1.0, 10.0, status=""), "unknown_status"),
    "status-odd": (order("status-odd", "sell", "2025-12-01T12:00:00Z", 1.0, 10.0, status="settled?"), "unknown_status"),
    "status-partial": (
        order("status-partial", "sell", "2025-12-01T12:00:00Z", 1.0, 10.0, status="Partially_Filled"),
        "partial_fill_size_unknown",
    ),
}


def invisible_and_space_characters() -> list[str]:
    """Every code point Python's Unicode database calls a format, control or space character (NUL aside)."""
    return [
        chr(cp) for cp in range(1, sys.maxunicode + 1)
        if unicodedata.category(chr(cp)) in ("Cf", "Cc", "Zs", "Zl", "Zp")
    ]


@pytest.fixture(scope="module")
def hostile(make_warehouse: Callable[[str], Warehouse]) -> Warehouse:
    warehouse = make_warehouse("hostile")
    warehouse.load(VALID)
    insert_raw(warehouse, [row for row, _ in HOSTILE.values()])
    # Non-fills whose symbol and source carry one such character each.
    insert_raw(warehouse, [
        order(f"u{ord(ch):06x}", "buy", "2025-12-01T09:00:00Z", 1.0, 10.0,
              symbol=f"AVAX{ch}-USD", source=f"web{ch}hook", status="cancelled")
        for ch in invisible_and_space_characters()
    ])
    outcome = warehouse.build()
    assert outcome.success, outcome.failures
    return warehouse


def test_every_hostile_row_is_quarantined_with_its_reason(hostile: Warehouse) -> None:
    reasons = dict(hostile.query("select order_id, reason from {staging}.stg_trading_bot__quarantined_orders"))
    assert reasons == {order_id: reason for order_id, (_, reason) in HOSTILE.items()}


def test_invisible_characters_do_not_make_new_symbols(hostile: Warehouse) -> None:
    fills = hostile.query("select order_id, symbol, status from {staging}.stg_trading_bot__fills order by order_id")
    assert [symbol for _, symbol, _ in fills] == ["AVAX-USD"] * len(VALID)
    assert {status for _, _, status in fills} == {"filled"}
    problems = compare(sql_allocations(hostile), fifo(reference_fills(
        {**row, "symbol": "AVAX-USD"} for row in VALID
    )))
    assert problems == []
    (unmatched,), = hostile.query("select count(*) from {marts}.fct_fifo_allocations where is_unmatched")
    assert unmatched == 0


def test_unicode_space_and_format_characters_are_normalised(hostile: Warehouse) -> None:
    rows = hostile.query(
        "select order_id, symbol, source from {staging}.stg_trading_bot__non_fill_orders where order_id like 'u%%'"
    )
    expected = {}
    for ch in invisible_and_space_characters():
        spacing = unicodedata.category(ch).startswith("Z") or ch in "\t\n\x0b\x0c\r\x85"
        expected[f"u{ord(ch):06x}"] = ("AVAX-USD", "web hook" if spacing else "webhook")
    assert {order_id: (symbol, source) for order_id, symbol, source in rows} == expected


def test_calendars_start_at_the_first_valid_fill(hostile: Warehouse) -> None:
    (days, first), = hostile.query("select count(*), min(date_day) from {marts}.daily_pnl")
    assert (days, first.isoformat()) == (2, "2025-12-01")
    (symbol_days,), = hostile.query("select count(*) from {marts}.daily_symbol_pnl")
    assert symbol_days == 2


def test_a_symbol_calendar_starts_at_its_own_first_fill(make_warehouse: Callable[[str], Warehouse]) -> None:
    """One early fill of one symbol must not give every other symbol years of empty days."""
    warehouse = make_warehouse("calendar")
    warehouse.load([
        order("old", "buy", "2024-01-01T10:00:00Z", 1.0, 10.0, symbol="OLD-USD"),
        order("new-b", "buy", "2025-12-01T10:00:00Z", 1.0, 10.0, symbol="NEW-USD"),
        order("new-s", "sell", "2025-12-02T10:00:00Z", 1.0, 11.0, symbol="NEW-USD"),
    ])
    outcome = warehouse.build("--select", "+daily_symbol_pnl")
    assert outcome.success, outcome.failures
    rows = dict(warehouse.query("select symbol, count(*) from {marts}.daily_symbol_pnl group by symbol"))
    assert rows == {"OLD-USD": 702, "NEW-USD": 2}


# --- fuzz: any Unicode, any float, any timestamp, any JSON ---------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
FLOATS = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
    st.sampled_from([1e308, -1e308, 5e-324, 0.0, -0.0, 1.0, 1e12, 1e-12]),
)
TIMES = st.one_of(
    st.none(),
    st.sampled_from(["-infinity", "infinity", "4713-01-01 00:00:00+00 BC", "294276-12-31 00:00:00+00",
                     "1970-01-01 00:00:00+00", "2025-12-01 12:00:00+00"]),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.integers() | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=6,
)
HOSTILE_ROW = st.fixed_dictionaries({
    # A "Z" in front keeps a hostile symbol off the valid history's AVAX-USD,
    # whatever follows it.
    "symbol": st.one_of(st.none(), TEXT.map(lambda t: "Z" + t)),
    "side": st.one_of(st.none(), st.sampled_from(["buy", "sell", " SELL\u200b", "short"]), TEXT),
    "order_time": TIMES,
    "size": FLOATS,
    "price": FLOATS,
    "total_fees_usd": FLOATS,
    "status": st.one_of(st.none(), st.sampled_from(["filled", "", "filled\n", "partially_filled", "open"]), TEXT),
    "source": st.one_of(st.none(), TEXT),
    "trigger": st.one_of(st.none(), JSON, st.fixed_dictionaries({"trigger": TEXT})),
})


@pytest.fixture(scope="module")
def fuzz_warehouse(make_warehouse: Callable[[str], Warehouse]) -> Warehouse:
    return make_warehouse("fuzz")


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rows=st.lists(HOSTILE_ROW, min_size=20, max_size=60))
def test_fuzzed_rows_never_break_the_build(fuzz_warehouse: Warehouse, rows: list[dict[str, object]]) -> None:
    warehouse = fuzz_warehouse
    warehouse.load(VALID)  # replaces the previous example's rows
    insert_raw(warehouse, [{**row, "order_id": f"h{n}"} for n, row in enumerate(rows)])
    outcome = warehouse.build()
    assert outcome.success, outcome.failures
    (raw,), = warehouse.query("select count(*) from {raw}.trade_records")
    (landed,), = warehouse.query(
        "select (select count(*) from {staging}.stg_trading_bot__fills)"
        " + (select count(*) from {staging}.stg_trading_bot__non_fill_orders)"
        " + (select count(*) from {staging}.stg_trading_bot__quarantined_orders)"
    )
    assert raw == landed == len(VALID) + len(rows)
    valid_allocations = [a for a in sql_allocations(warehouse) if not str(a[0]).startswith("h")]
    assert compare(valid_allocations, fifo(reference_fills({**r, "symbol": "AVAX-USD"} for r in VALID))) == []
    # Every figure a report shows stays a sane number.
    (largest,), = warehouse.query(
        "select coalesce(max(abs(realized_pnl_usd)), 0) from {marts}.daily_pnl"
    )
    assert largest < Decimal("1e12")
