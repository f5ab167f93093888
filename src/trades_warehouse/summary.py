"""A short account of what a build produced, read from the warehouse's own models."""

from __future__ import annotations

from decimal import Decimal

from psycopg import sql
from rich.console import Console
from rich.table import Table

from trades_warehouse.database import ConnectionSettings


def _money(value: object) -> str:
    if value is None:
        return "-"
    return f"{Decimal(str(value)):,.2f}"


def print_stories(console: Console, connection: ConnectionSettings, target_schema: str, stories: dict[str, str]) -> None:
    """The incident's sells: what the legacy matcher said next to what FIFO says."""
    staging = sql.Identifier(f"{target_schema}_staging")
    marts = sql.Identifier(f"{target_schema}_marts")
    with connection.connect() as conn:
        rows = conn.execute(
            sql.SQL(
                "select f.order_id, f.symbol, f.order_time, legacy_parent.order_time, f.legacy_pnl_usd,"
                " t.newest_lot_time, t.realized_pnl_usd"
                " from {s}.stg_trading_bot__fills as f"
                " join {m}.fct_fills as t using (order_id)"
                " left join {s}.stg_trading_bot__fills as legacy_parent on f.legacy_parent_id = legacy_parent.order_id"
                " where f.order_id = any(%s) order by f.symbol"
            ).format(s=staging, m=marts),
            (list(stories.values()),),
        ).fetchall()
    table = Table(title="The incident's sells: legacy matcher against FIFO")
    for column in ("symbol", "sell time", "legacy lot", "legacy P&L", "FIFO lot", "FIFO P&L"):
        table.add_column(column)
    for _, symbol, sold, legacy_lot, legacy_pnl, fifo_lot, fifo_pnl in rows:
        table.add_row(
            str(symbol),
            f"{sold:%Y-%m-%d %H:%M}",
            f"{legacy_lot:%Y-%m-%d %H:%M}" if legacy_lot else "-",
            _money(legacy_pnl),
            f"{fifo_lot:%Y-%m-%d %H:%M}" if fifo_lot else "-",
            _money(fifo_pnl),
        )
    console.print(table)


def print_summary(console: Console, connection: ConnectionSettings, target_schema: str) -> None:
    staging = sql.Identifier(f"{target_schema}_staging")
    marts = sql.Identifier(f"{target_schema}_marts")
    with connection.connect() as conn:
        counts = conn.execute(
            sql.SQL(
                "select (select count(*) from {s}.stg_trading_bot__fills),"
                " (select count(*) from {s}.stg_trading_bot__non_fill_orders),"
                " (select count(*) from {s}.stg_trading_bot__quarantined_orders),"
                " (select count(distinct symbol) from {s}.stg_trading_bot__fills),"
                " (select count(*) from {m}.fct_fifo_allocations),"
                " (select count(*) from {m}.fct_fifo_allocations where is_unmatched),"
                " (select sum(pnl_usd) from {m}.fct_fifo_allocations),"
                " (select count(*) from {m}.fct_buy_lots where is_open)"
            ).format(s=staging, m=marts)
        ).fetchone()
        assert counts is not None
        fills, non_fills, quarantined, symbols, allocations, unmatched, pnl, open_lots = counts
        reasons = conn.execute(
            sql.SQL("select reason, count(*) from {}.stg_trading_bot__quarantined_orders group by 1 order by 2 desc").format(
                staging
            )
        ).fetchall()
        by_symbol = conn.execute(
            sql.SQL(
                "select symbol, count(distinct sell_order_id), sum(pnl_usd) from {}.fct_fifo_allocations"
                " group by symbol order by sum(pnl_usd) desc nulls last"
            ).format(marts)
        ).fetchall()
        legacy = conn.execute(
            sql.SQL(
                "select f.symbol, f.order_id, f.legacy_pnl_usd, t.realized_pnl_usd"
                " from {s}.stg_trading_bot__fills f join {m}.fct_fills t using (order_id)"
                " where f.side = 'sell' and f.legacy_pnl_usd is not null"
                " order by abs(f.legacy_pnl_usd - t.realized_pnl_usd) desc limit 5"
            ).format(s=staging, m=marts)
        ).fetchall()

    console.print(
        f"\n[bold]Warehouse built[/]: {fills} fills over {symbols} symbols, {non_fills} non-fill orders, "
        f"{quarantined} quarantined rows; {allocations} FIFO allocations ({unmatched} unmatched), "
        f"{open_lots} open lots; realized P&L [bold]{_money(pnl)}[/] USD."
    )
    if reasons:
        console.print("Quarantined: " + ", ".join(f"{reason} {n}" for reason, n in reasons))
    table = Table(title="Realized P&L by symbol (best and worst three)")
    for column in ("symbol", "sells", "realized P&L USD"):
        table.add_column(column, justify="right" if column != "symbol" else "left")
    shown = by_symbol[:3] + by_symbol[-3:] if len(by_symbol) > 6 else by_symbol
    for symbol, sells, symbol_pnl in shown:
        table.add_row(str(symbol), str(sells), _money(symbol_pnl))
    console.print(table)
    if legacy:
        legacy_table = Table(title="Where the legacy P&L column was most wrong")
        for column in ("symbol", "sell order", "legacy pnl_usd", "FIFO P&L"):
            legacy_table.add_column(column)
        for symbol, order_id, legacy_pnl, fifo_pnl in legacy:
            legacy_table.add_row(str(symbol), str(order_id), _money(legacy_pnl), _money(fifo_pnl))
        console.print(legacy_table)
