"""The marts' ratio formulas as SQL, for the few figures the report and dashboard take over a range
of days the marts do not fix (a custom period, the report's look-back).

Each mirrors its dbt macro exactly, so that a ratio taken here equals the
mart's over the same rows: ``win_rate`` and ``profit_factor`` of
macros/trade_outcome.sql, kept to 6 decimals by ``round_ratio`` of
macros/reporting.sql. Arguments are trusted SQL expressions (column sums
written in this package), never user input.
"""

from __future__ import annotations

from psycopg import sql

__all__ = ["profit_factor", "round_ratio", "win_rate"]


def round_ratio(expression: str) -> sql.SQL:
    """macros/reporting.sql ``round_ratio``: 6 decimals, trailing zeros dropped."""
    return sql.SQL(f"trim_scale(round({expression}, 6))")


def win_rate(wins: str, trades: str) -> sql.SQL:
    """macros/trade_outcome.sql ``win_rate``, rounded: null without trades."""
    return round_ratio(f"{wins}::numeric / nullif({trades}, 0)")


def profit_factor(gross_profit: str, gross_loss: str) -> sql.SQL:
    """macros/trade_outcome.sql ``profit_factor``, rounded: null without losses."""
    return round_ratio(f"{gross_profit} / nullif(-{gross_loss}, 0)")
