"""The report's data: plain, frozen dataclasses, filled from the marts by ``report.marts``.

Nothing here reads a database or computes a figure: every count, total and
ratio is a field filled with what a mart (or SQL over a mart) computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

__all__ = [
    "AllocationHealth",
    "CountAmount",
    "DailyPnl",
    "EquityPoint",
    "Headline",
    "LegacyDiscrepancy",
    "OpenPosition",
    "ReportData",
    "SourceResult",
    "SymbolResult",
    "TriggerResult",
    "WindowMetrics",
]


@dataclass(frozen=True)
class Headline:
    """The figures at the top of the report, over the report window."""

    realized_pnl_usd: Decimal
    fees_usd: Decimal
    trades: int  # sells closed in the window
    wins: int
    losses: int
    win_rate: float | None  # wins / trades, None without trades
    # From performance_metrics, window ``metrics_window`` ending at as_of.
    metrics_window: str
    sharpe_daily: float | None
    sharpe_per_trade: float | None
    sortino_daily: float | None
    max_drawdown_usd: Decimal | None
    max_drawdown_pct: float | None


@dataclass(frozen=True)
class DailyPnl:
    day: date
    realized_pnl_usd: Decimal
    fees_usd: Decimal
    trades: int


@dataclass(frozen=True)
class EquityPoint:
    """One point of the equity curve (one sell, or the window's opening) with the drawdown from the
    running peak since the window opened (as ``drawdowns`` measures a window)."""

    at: datetime
    equity_usd: Decimal
    peak_usd: Decimal
    drawdown_usd: Decimal  # zero or negative
    drawdown_pct: float | None  # zero or negative, fraction of the peak


@dataclass(frozen=True)
class WindowMetrics:
    """One row of performance_metrics."""

    window_name: str
    trades: int
    realized_pnl_usd: Decimal
    win_rate: float | None
    profit_factor: float | None
    expectancy_usd: Decimal | None
    sharpe_per_trade: float | None
    sharpe_daily: float | None
    sortino_daily: float | None
    max_drawdown_usd: Decimal | None
    max_drawdown_pct: float | None


@dataclass(frozen=True)
class SymbolResult:
    symbol: str
    trades: int
    wins: int
    realized_pnl_usd: Decimal
    win_rate: float | None  # the marts' win rate over the window's trades; None without trades


@dataclass(frozen=True)
class TriggerResult:
    """Realized P&L by the entry (buy) or exit (sell) trigger."""

    role: str  # "entry" or "exit"
    trigger: str
    is_inferred: bool
    orders: int
    wins: int
    losses: int
    breakevens: int
    realized_pnl_usd: Decimal


@dataclass(frozen=True)
class SourceResult:
    source: str
    buys: int
    sells: int
    realized_pnl_usd: Decimal


@dataclass(frozen=True)
class OpenPosition:
    """Open lots of one symbol."""

    symbol: str
    lots: int
    remaining_size: Decimal
    cost_basis_usd: Decimal
    oldest_buy_time: datetime


@dataclass(frozen=True)
class CountAmount:
    """One line of allocation_health: a labelled count with its size and amount when they apply."""

    label: str
    count: int
    amount_usd: Decimal | None = None
    size: Decimal | None = None


@dataclass(frozen=True)
class AllocationHealth:
    """allocation_health, check by check; sizes are per symbol (base units do not add up).

    The totals are the mart's own per-check totals (check_items,
    check_amount_usd), zero for a check without rows.
    """

    unmatched_by_symbol: tuple[CountAmount, ...]  # amount: proceeds of the unmatched size
    old_lot_by_symbol: tuple[CountAmount, ...]  # amount: cost basis drawn from old lots
    open_lots_by_age: tuple[CountAmount, ...]  # amount: open cost basis
    quarantine_by_reason: tuple[CountAmount, ...]
    unmatched_sells: int
    unmatched_proceeds_usd: Decimal
    old_lot_sells: int
    quarantined_rows: int


@dataclass(frozen=True)
class LegacyDiscrepancy:
    """legacy_pnl_discrepancy_by_symbol: the bot's own P&L beside FIFO's, per symbol."""

    symbol: str
    sells_with_legacy_pnl: int
    sells_with_discrepancy: int
    sells_with_exhausted_parent: int
    legacy_result_usd: Decimal
    fifo_pnl_usd: Decimal
    difference_usd: Decimal
    worst_sell_order_id: str | None
    worst_difference_usd: Decimal | None


@dataclass(frozen=True)
class ReportData:
    report_date: date
    lookback_days: int
    as_of: datetime | None  # where the marts' fixed windows end (latest fill unless set)
    starting_equity_usd: Decimal | None
    headline: Headline
    daily: tuple[DailyPnl, ...]
    equity: tuple[EquityPoint, ...]
    metrics: tuple[WindowMetrics, ...]
    best_symbols: tuple[SymbolResult, ...]
    worst_symbols: tuple[SymbolResult, ...]
    triggers: tuple[TriggerResult, ...]
    sources: tuple[SourceResult, ...]
    open_positions: tuple[OpenPosition, ...]
    open_lots_total: int
    open_cost_basis_total_usd: Decimal
    health: AllocationHealth
    legacy: tuple[LegacyDiscrepancy, ...] = field(default_factory=tuple)

    @property
    def window_start(self) -> date:
        return self.report_date - timedelta(days=self.lookback_days - 1)

    @property
    def window_start_time(self) -> datetime:
        return datetime.combine(self.window_start, datetime.min.time(), tzinfo=UTC)

    @property
    def window_end_time(self) -> datetime:
        """Exclusive: midnight UTC after the report date."""
        return datetime.combine(self.report_date + timedelta(days=1), datetime.min.time(), tzinfo=UTC)

