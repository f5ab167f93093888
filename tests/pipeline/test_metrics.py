"""The reporting marts against an independent pandas/numpy computation of the same trades.

The only thing read from the warehouse is what the metrics are computed from:
each sell's realized P&L out of the FIFO allocations (themselves checked
against the Python reference in test_fifo) and the fill times that bound the
windows. Everything else (calendar, windows, returns, Sharpe, Sortino,
drawdown, win rate, profit factor) is computed here from the definitions in
issue 5, with no SQL, and must equal performance_metrics to 1e-9, or to the
precision a mart rounds a figure to (ratios to 6 decimals): within half a unit
of its last decimal.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from psycopg import sql

from conftest import Warehouse, order
from trades_warehouse import dbt_invoke
from trades_warehouse.paths import project_dir
from trades_warehouse.demo_data import STORY_ORDER_IDS

TOLERANCE = 1e-9
# Decimals the marts round a figure to (macros round_ratio and round_usd);
# figures not named here are exact.
RATIO_DECIMALS = 6
USD_DECIMALS = 2
ROUNDED_TO: dict[str, int] = {
    name: RATIO_DECIMALS
    for name in ("sharpe_daily", "sortino_daily", "sharpe_per_trade", "max_drawdown_pct", "win_rate", "profit_factor")
}
STARTING_EQUITY = 10_000.0  # the project default of starting_equity_usd
WINDOWS: dict[str, int | None] = {"1d": 1, "7d": 7, "30d": 30, "all": None}
REPORTING_MARTS = (
    "report_windows", "daily_pnl", "daily_symbol_pnl", "equity_curve", "drawdowns", "performance_metrics",
    "symbol_performance", "symbol_leaderboard", "trigger_performance", "source_performance",
    "legacy_pnl_discrepancy", "legacy_pnl_discrepancy_by_symbol", "allocation_health", "metricflow_time_spine",
    "quarantine_samples",
)


# --- the independent computation ---------------------------------------------------


def trades_of(warehouse: Warehouse) -> pd.DataFrame:
    """One row per sell that closed inventory: its time, order id and realized P&L."""
    rows = warehouse.query(
        "select sell_order_id, sell_time, sum(pnl_usd) from {marts}.fct_fifo_allocations"
        " where not is_unmatched group by sell_order_id, sell_time"
    )
    frame = pd.DataFrame(rows, columns=["sell_order_id", "sell_time", "pnl"])
    frame["pnl"] = frame["pnl"].astype(float)
    frame["sell_time"] = pd.to_datetime(frame["sell_time"], utc=True)
    return frame.sort_values(["sell_time", "sell_order_id"], ignore_index=True)


def fill_bounds(warehouse: Warehouse) -> tuple[datetime | None, datetime | None]:
    ((first, last),) = warehouse.query("select min(order_time), max(order_time) from {staging}.stg_trading_bot__fills")
    return first, last


def expected_metrics(
    trades: pd.DataFrame, first_fill: datetime, as_of: datetime, *, starting_equity: float = STARTING_EQUITY,
    risk_free_rate: float = 0.0,
) -> dict[str, dict[str, float | None]]:
    """Every window's figures, straight from the definitions."""
    end_day = as_of.astimezone(UTC).date()
    first_day = first_fill.astimezone(UTC).date()
    trades = trades[trades["sell_time"] <= pd.Timestamp(as_of)]
    day_of_trade = trades["sell_time"].dt.tz_convert("UTC").dt.date
    pnl_per_day = trades.groupby(day_of_trade)["pnl"].sum()
    calendar = pd.Index([first_day + timedelta(days=n) for n in range((end_day - first_day).days + 1)])
    daily_pnl = pnl_per_day.reindex(calendar, fill_value=0.0)
    equity_at_start = starting_equity + daily_pnl.cumsum().shift(1, fill_value=0.0)
    daily_return = daily_pnl / equity_at_start
    daily_rf = (1 + risk_free_rate) ** (1 / 365) - 1

    result: dict[str, dict[str, float | None]] = {}
    for name, days in WINDOWS.items():
        start_day = first_day if days is None else max(end_day - timedelta(days=days - 1), first_day)
        start_at = pd.Timestamp(datetime.combine(start_day, datetime.min.time(), UTC))
        r = daily_return[[d >= start_day for d in calendar]].to_numpy() - daily_rf
        in_window = trades[trades["sell_time"] >= start_at]
        pnl = in_window["pnl"].to_numpy()

        std = r.std(ddof=1) if len(r) > 1 else math.nan
        downside = math.sqrt(np.sum(np.minimum(r, 0.0) ** 2) / len(r))
        trade_std = pnl.std(ddof=1) if len(pnl) > 1 else math.nan
        wins, losses = pnl[pnl > 0], pnl[pnl < 0]

        opening = starting_equity + trades.loc[trades["sell_time"] < start_at, "pnl"].sum()
        equity = np.concatenate([[opening], opening + np.cumsum(pnl)])
        peak = np.maximum.accumulate(equity)
        result[name] = {
            "trades": float(len(pnl)),
            "realized_pnl_usd": float(pnl.sum()),
            "sharpe_daily": _annualised(_ratio(r.mean(), std)),
            "sortino_daily": _annualised(_ratio(r.mean(), downside)),
            "sharpe_per_trade": _ratio(pnl.mean() if len(pnl) else math.nan, trade_std),
            "max_drawdown_usd": float((equity - peak).min()),
            "max_drawdown_pct": float(((equity - peak) / peak).min()),
            "win_rate": _ratio(len(wins), len(pnl)),
            "profit_factor": _ratio(wins.sum(), -losses.sum()),
        }
    return result


def _annualised(daily_ratio: float | None) -> float | None:
    """A daily ratio over 365 days: crypto trades every day."""
    return None if daily_ratio is None else daily_ratio * math.sqrt(365)


def _ratio(numerator: float, denominator: float) -> float | None:
    """Null, not a division error, where the figure is undefined."""
    if math.isnan(numerator) or math.isnan(denominator) or denominator == 0:
        return None
    return float(numerator / denominator)


METRIC_COLUMNS = ("trades", "realized_pnl_usd", "sharpe_daily", "sortino_daily", "sharpe_per_trade",
                  "max_drawdown_usd", "max_drawdown_pct", "win_rate", "profit_factor")


def sql_metrics(warehouse: Warehouse) -> dict[str, dict[str, float | None]]:
    rows = warehouse.query(f"select window_name, {', '.join(METRIC_COLUMNS)} from {{marts}}.performance_metrics")
    return {
        row[0]: {c: None if v is None else float(v) for c, v in zip(METRIC_COLUMNS, row[1:])} for row in rows
    }


def tolerance_of(name: str) -> float:
    """Half a unit of the last decimal a rounded figure keeps (plus float noise); 1e-9 for exact ones."""
    decimals = ROUNDED_TO.get(name)
    return TOLERANCE if decimals is None else 0.5 * 10.0**-decimals + TOLERANCE


def assert_metrics_equal(
    actual: Mapping[str, Mapping[str, float | None]], expected: Mapping[str, Mapping[str, float | None]]
) -> None:
    problems = []
    for window, figures in expected.items():
        for name, value in figures.items():
            got = actual[window][name]
            if value is None or got is None:
                if value is not got:
                    problems.append(f"{window}.{name}: sql {got} expected {value}")
            elif abs(got - value) > tolerance_of(name):
                problems.append(f"{window}.{name}: sql {got!r} expected {value!r} (diff {got - value:.3g})")
    assert problems == [], "\n".join(problems)


# --- warehouses ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_warehouse: Warehouse) -> Warehouse:
    return demo_warehouse


# Two days of fills: the first trade loses (so the peak is the starting equity,
# before any trade), two sells share one timestamp, one sell is partly an
# oversell, and the last day holds a single trade.
EDGE_ROWS = [
    order("b1", "buy", "2025-03-01T09:00:00Z", 10, 100, fees=1.0),
    order("s1", "sell", "2025-03-01T10:00:00Z", 4, 90, fees=0.4),
    order("s2", "sell", "2025-03-01T12:00:00Z", 3, 120, fees=0.3),
    order("s3", "sell", "2025-03-01T12:00:00Z", 3, 80, fees=0.3),
    order("b2", "buy", "2025-03-03T09:00:00Z", 5, 50, symbol="SOL-USD"),
    order("s4", "sell", "2025-03-03T11:00:00Z", 6, 55, symbol="SOL-USD"),
    order("b3", "buy", "2025-03-05T10:00:00Z", 1, 58, symbol="SOL-USD"),
    order("s5", "sell", "2025-03-05T11:00:00Z", 1, 60, symbol="SOL-USD"),
]


@pytest.fixture(scope="module")
def edge(build_warehouse: Callable[..., Warehouse]) -> Warehouse:
    return build_warehouse("metrics_edge", EDGE_ROWS)


# --- tests ---------------------------------------------------------------------------


def test_demo_metrics_match_pandas(demo: Warehouse) -> None:
    first, last = fill_bounds(demo)
    assert first is not None and last is not None
    expected = expected_metrics(trades_of(demo), first, last)
    assert (expected["all"]["trades"] or 0) > 1000 and expected["7d"]["sharpe_daily"] is not None
    assert_metrics_equal(sql_metrics(demo), expected)


def test_marts_round_ratios_and_mean_money(demo: Warehouse) -> None:
    """Ratios keep 6 decimals and mean P&L the cent; sums of allocations keep every decimal."""
    rounded = {
        "performance_metrics": {
            **dict.fromkeys(
                ("win_rate", "profit_factor", "win_loss_ratio", "sharpe_per_trade", "mean_daily_return",
                 "stdev_daily_return", "downside_deviation", "sharpe_daily", "sortino_daily", "max_drawdown_pct"),
                RATIO_DECIMALS,
            ),
            **dict.fromkeys(("expectancy_usd", "avg_win_usd", "avg_loss_usd"), USD_DECIMALS),
        },
        "daily_pnl": {"daily_return": RATIO_DECIMALS},
        "equity_curve": {"drawdown_pct": RATIO_DECIMALS},
        "drawdowns": {"max_drawdown_pct": RATIO_DECIMALS},
        "symbol_performance": dict.fromkeys(("win_rate", "profit_factor"), RATIO_DECIMALS),
        "symbol_leaderboard": dict.fromkeys(("win_rate", "profit_factor"), RATIO_DECIMALS),
        "trigger_performance": {"win_rate": RATIO_DECIMALS},
        "source_performance": {"win_rate": RATIO_DECIMALS},
        "legacy_pnl_discrepancy": {"legacy_to_fifo_ratio": RATIO_DECIMALS},
    }
    for mart, columns in rounded.items():
        scales = ", ".join(f"coalesce(max(scale({c})), 0)" for c in columns)
        (row,) = demo.query(f"select {scales} from {{marts}}.{mart}")
        finer = {c: s for c, s in zip(columns, row) if s > columns[c]}
        assert finer == {}, f"{mart}: more decimals than the rounding keeps"
        assert max(row) > 0, f"{mart}: every figure a whole number?"
    # The sums stay exact: realized P&L keeps the allocations' decimals.
    ((scale,),) = demo.query("select max(scale(realized_pnl_usd)) from {marts}.performance_metrics")
    assert scale > USD_DECIMALS


def test_edge_history_metrics_match_pandas(edge: Warehouse) -> None:
    first, last = fill_bounds(edge)
    assert first is not None and last is not None
    expected = expected_metrics(trades_of(edge), first, last)
    assert_metrics_equal(sql_metrics(edge), expected)
    # The first trade lost: the drawdown is measured from the starting equity.
    deepest = expected["all"]["max_drawdown_usd"]
    assert deepest is not None and deepest < 0
    # 1d: the last day has one trade and one day: no deviation of any kind.
    one_day = sql_metrics(edge)["1d"]
    assert one_day["trades"] == 1 and one_day["sharpe_daily"] is None and one_day["sharpe_per_trade"] is None


def test_equal_timestamps_stay_separate_points(edge: Warehouse) -> None:
    rows = edge.query(
        "select sell_order_id, realized_pnl_usd, equity_usd from {marts}.equity_curve order by trade_seq"
    )
    ids = [r[0] for r in rows]
    assert ids[:3] == ["s1", "s2", "s3"]
    assert len({r[2] for r in rows[1:3]}) == 2, "sells at one timestamp must not share one cumulative value"
    assert all(r[2] == 10_000 + sum(x[1] for x in rows[: n + 1]) for n, r in enumerate(rows))


def test_risk_free_rate_variable(make_warehouse: Callable[[str], Warehouse]) -> None:
    warehouse = make_warehouse("metrics_rf")
    warehouse.load(EDGE_ROWS)
    outcome = warehouse.build(dbt_vars={"risk_free_rate": 0.05})
    assert outcome.success, outcome.failures
    first, last = fill_bounds(warehouse)
    assert first is not None and last is not None
    expected = expected_metrics(trades_of(warehouse), first, last, risk_free_rate=0.05)
    assert_metrics_equal(sql_metrics(warehouse), expected)


def test_every_mart_builds_on_an_empty_source(make_warehouse: Callable[[str], Warehouse]) -> None:
    warehouse = make_warehouse("metrics_empty")
    warehouse.load([])
    outcome = warehouse.build()
    assert outcome.success, outcome.failures
    for mart in REPORTING_MARTS:
        warehouse.query(f"select count(*) from {{marts}}.{mart}")
    rows = warehouse.query(
        "select window_name, trades, realized_pnl_usd, sharpe_daily, sortino_daily, sharpe_per_trade, win_rate,"
        " profit_factor, max_drawdown_usd from {marts}.performance_metrics order by window_order"
    )
    assert [r[0] for r in rows] == ["1d", "7d", "30d", "all"]
    assert all(r[1] == 0 and r[2] == 0 and r[3:8] == (None,) * 5 and r[8] == 0 for r in rows), rows
    assert warehouse.query("select count(*) from {marts}.daily_pnl") == [(0,)]
    assert warehouse.query("select count(*) from {marts}.drawdowns where max_drawdown_usd = 0") == [(4,)]


def test_daily_calendar_has_every_day(edge: Warehouse) -> None:
    days = [r[0] for r in edge.query("select date_day from {marts}.daily_pnl order by date_day")]
    assert days == [date(2025, 3, 1) + timedelta(days=n) for n in range(5)]
    zero_days = edge.query("select count(*) from {marts}.daily_pnl where trades = 0 and realized_pnl_usd = 0")
    assert zero_days == [(2,)]



def test_legacy_detector_shows_the_three_incidents(demo: Warehouse) -> None:
    rows = demo.query(
        "select sell_order_id, legacy_parent_id, legacy_result_usd, fifo_pnl_usd, difference_usd,"
        " legacy_parent_exhausted, legacy_parent_not_in_fifo from {marts}.legacy_pnl_discrepancy"
        " where sell_order_id = any(%s)",
        ([STORY_ORDER_IDS[k] for k in ("sapien_sell", "avax_sell", "pengu_sell")],),
    )
    stories = {r[0]: r[1:] for r in rows}

    parent, legacy, fifo, difference, exhausted, not_in_fifo = stories[STORY_ORDER_IDS["avax_sell"]]
    assert round(float(legacy), 2) == -276.53 and round(float(fifo), 2) == -0.27
    assert float(difference) == pytest.approx(float(legacy) - float(fifo))
    assert exhausted and not_in_fifo and parent == STORY_ORDER_IDS["avax_first_buy"]

    parent, legacy, fifo, _, exhausted, _ = stories[STORY_ORDER_IDS["pengu_sell"]]
    assert legacy > 0 and round(float(fifo), 2) == -0.97 and exhausted

    parent, legacy, fifo, _, exhausted, _ = stories[STORY_ORDER_IDS["sapien_sell"]]
    assert parent == STORY_ORDER_IDS["sapien_first_buy"] == "story-sapien-first-buy"
    assert exhausted and round(float(fifo), 2) == -0.23

    # The summary carries them: AVAX-USD is off by hundreds of dollars.
    ((avax_difference, avax_exhausted),) = demo.query(
        "select difference_usd, sells_with_exhausted_parent from {marts}.legacy_pnl_discrepancy_by_symbol"
        " where symbol = 'AVAX-USD'"
    )
    assert avax_difference < -250 and avax_exhausted >= 1


def test_symbol_and_trigger_marts_add_up(demo: Warehouse) -> None:
    ((total,),) = demo.query("select sum(realized_pnl_usd) from {marts}.daily_pnl")
    for statement in (
        "select sum(realized_pnl_usd) from {marts}.symbol_performance where window_name = 'all'",
        "select sum(realized_pnl_usd) from {marts}.trigger_performance where trigger_role = 'entry'",
        "select sum(realized_pnl_usd) from {marts}.trigger_performance where trigger_role = 'exit'",
        "select sum(realized_pnl_usd) from {marts}.source_performance",
    ):
        ((value,),) = demo.query(statement)
        assert abs(value - total) < 1e-9, statement
    inferred = demo.query(
        "select trigger_name from {marts}.trigger_performance where trigger_role = 'entry' and is_inferred"
    )
    assert {"signal_matrix", "roc_buy", "webhook", "passive_mm", "websocket"} <= {r[0] for r in inferred}


def test_symbol_holding_times_match_python(demo: Warehouse) -> None:
    """Mean and median holding time per symbol and window, from the allocations' times in plain Python.

    The whole history comes from int_holding_times_aggregated, the bounded windows from the
    allocations themselves: both must agree with the definition (matched pieces sold within the
    window, both ends included; the median of an even count is the mean of the middle two).
    """
    windows = demo.query("select window_name, window_start_at, window_end_at from {marts}.report_windows")
    pieces = demo.query(
        "select symbol, buy_time, sell_time from {marts}.fct_fifo_allocations where not is_unmatched"
    )
    rows = demo.query(
        "select window_name, symbol, avg_holding_hours, median_holding_hours from {marts}.symbol_performance"
    )
    assert len(windows) == 4 and len(pieces) > 1000
    micro = timedelta(microseconds=1)
    checked = 0
    for window_name, symbol, mean_hours, median_hours in rows:
        start, end = next((s, e) for w, s, e in windows if w == window_name)
        held = sorted(sell - buy for sym, buy, sell in pieces if sym == symbol and start <= sell <= end)
        if not held:
            assert (mean_hours, median_hours) == (None, None), (window_name, symbol)
            continue
        middle = len(held) // 2
        median = held[middle] if len(held) % 2 else (held[middle - 1] + held[middle]) / 2
        mean_seconds = Decimal(sum(held, timedelta()) // micro) / Decimal(10**6) / len(held)
        assert abs(Decimal(mean_hours) - mean_seconds / 3600) < Decimal("1e-15"), (window_name, symbol)
        # An interval keeps microseconds: the mean of two middle ones rounds half a microsecond (up in
        # SQL, to even in Python), and the hours carry 16 decimals.
        assert abs(Decimal(median_hours) * 3600 - Decimal(median // micro) / 10**6) < Decimal("1.001e-6"), (
            window_name, symbol,
        )
        checked += 1
    assert checked > 4


def run_mf(warehouse: Warehouse, tmp_path: Path, *args: str) -> list[dict[str, str]]:
    """`mf query` on the warehouse's build, through the CLI as a user runs it.

    mf reads <project>/target/semantic_manifest.json, so it runs in a folder
    that links the project's files and puts this warehouse's target folder
    in place of target/ (the shared one is left alone).
    """
    root = tmp_path / "mf_project"
    root.mkdir()
    for entry in project_dir().iterdir():
        if entry.name not in ("target", "logs", ".state", ".venv", ".git"):
            (root / entry.name).symlink_to(entry)
    (root / "target").symlink_to(warehouse.target_path)
    out = tmp_path / "mf.csv"
    env = {
        **os.environ,
        **warehouse.connection.env(),
        "DBT_PROFILES_DIR": str(dbt_invoke.profiles_dir()),
        "DBT_PROJECT_DIR": str(root),
        "TRADES_SOURCE_SCHEMA": warehouse.source_schema,
        "TRADES_TARGET_SCHEMA": warehouse.target_schema,
    }
    mf = Path(sys.executable).with_name("mf")
    completed = subprocess.run(
        [str(mf), "query", *args, "--csv", str(out), "--quiet"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_metricflow_realized_pnl_matches_daily_pnl(demo: Warehouse, tmp_path: Path) -> None:
    rows = run_mf(
        demo, tmp_path, "--metrics", "realized_pnl,trades,win_rate,fees", "--group-by", "metric_time__day",
        "--order", "metric_time__day",
    )
    served = {row["metric_time__day"][:10]: row for row in rows}
    mart = demo.query(
        "select date_day, realized_pnl_usd, trades, wins, fees_usd from {marts}.daily_pnl order by date_day"
    )
    assert len(served) > 60
    for day, pnl, trades, wins, fees in mart:
        row = served.get(day.isoformat())
        if row is None or row["realized_pnl"] == "":
            # MetricFlow has no row for a day without trades; the mart has a zero.
            assert trades == 0 and pnl == 0, day
            continue
        assert abs(float(row["realized_pnl"]) - float(pnl)) <= TOLERANCE, day
        assert int(row["trades"]) == trades, day
        assert abs(float(row["win_rate"]) - wins / trades) <= TOLERANCE, day
        assert abs(float(row["fees"]) - float(fees)) <= TOLERANCE, day
    assert set(served) <= {d.isoformat() for d, *_ in mart}


def test_bi_read_role_is_granted_only_when_set(make_warehouse: Callable[[str], Warehouse]) -> None:
    warehouse = make_warehouse("metrics_grants")
    role = f"{warehouse.name}_bi"
    try:
        warehouse.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)).as_string(None))
    except Exception as exc:  # a server of your own may not let you create roles
        pytest.skip(f"cannot create a role here: {exc}")
    try:
        warehouse.load(EDGE_ROWS)
        assert warehouse.build().success  # no role: nothing granted
        privilege = (
            "select bool_and(has_table_privilege(%s, format('%%I.%%I', %s::text, relname), 'select'))"
            " from pg_class where relnamespace = %s::regnamespace"
            " and relname in ('performance_metrics', 'fct_fifo_allocations', 'fifo_allocations')"
        )
        assert warehouse.query(privilege, (role, warehouse.marts, warehouse.marts)) == [(False,)]
        outcome = warehouse.build(dbt_vars={"bi_read_role": role})
        assert outcome.success, outcome.failures
        assert warehouse.query(privilege, (role, warehouse.marts, warehouse.marts)) == [(True,)]
        assert warehouse.query("select has_schema_privilege(%s, %s, 'usage')", (role, warehouse.marts)) == [(True,)]
    finally:
        warehouse.execute(sql.SQL("drop owned by {0}; drop role {0}").format(sql.Identifier(role)).as_string(None))


def test_docs_generate_documents_every_reporting_column(demo: Warehouse) -> None:
    outcome = demo.dbt("docs", "generate")
    assert outcome.success, outcome.exception
    manifest = json.loads((demo.target_path / "manifest.json").read_text())
    catalog = json.loads((demo.target_path / "catalog.json").read_text())
    for mart in REPORTING_MARTS:
        node = manifest["nodes"][f"model.trades_warehouse.{mart}"]
        assert node["description"] and node["config"]["contract"]["enforced"], mart
        built = set(catalog["nodes"][f"model.trades_warehouse.{mart}"]["columns"])
        documented = {name for name, column in node["columns"].items() if column["description"]}
        assert built == documented, (mart, built ^ documented)
