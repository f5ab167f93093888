"""How the dashboard writes numbers and times: exact, from Decimal, never through a float.

Money is shown to the cent (the marts carry many more digits of exact
arithmetic, which are not information for a trader); sizes and prices are
shown with the decimals they carry in the marts (``9.40`` stays ``9.40``),
capped at ``MAX_QUANTITY_DECIMALS``. Ratios get two decimals, rates one
decimal of a percent. ``None`` (an undefined figure in the marts) is ``DASH``.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

DASH = "—"
MAX_QUANTITY_DECIMALS = 10
_CENT = Decimal("0.01")


def _as_decimal(value: Decimal | int) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def usd(value: Decimal | int | None, *, signed: bool = True) -> str:
    """Money to the cent with thousands separators: ``+1,234.56``, ``-0.27``."""
    if value is None:
        return DASH
    rounded = _as_decimal(value).quantize(_CENT, rounding=ROUND_HALF_EVEN)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0.00"
    return f"{rounded:+,.2f}" if signed else f"{rounded:,.2f}"


def quantity(value: Decimal | int | None) -> str:
    """A size or price with the decimals it carries (at most MAX_QUANTITY_DECIMALS)."""
    if value is None:
        return DASH
    number = _as_decimal(value)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_QUANTITY_DECIMALS:
        number = number.quantize(Decimal(1).scaleb(-MAX_QUANTITY_DECIMALS), rounding=ROUND_HALF_EVEN)
    return f"{number:,f}"


def count(value: int | None) -> str:
    return DASH if value is None else f"{value:,}"


def ratio(value: Decimal | None) -> str:
    """Sharpe, Sortino, profit factor: two decimals."""
    if value is None:
        return DASH
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_EVEN):,.2f}"


def percent(value: Decimal | None, *, signed: bool = False) -> str:
    """A fraction as a percent with one decimal: ``0.36`` is ``36.0%``."""
    if value is None:
        return DASH
    scaled = (value * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    if scaled == 0:
        scaled = abs(scaled)
    return f"{scaled:+.1f}%" if signed else f"{scaled:.1f}%"


def timestamp(value: datetime | None) -> str:
    """A UTC moment to the second: ``2025-12-03 23:46:32 UTC``."""
    if value is None:
        return DASH
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def minute(value: datetime | None) -> str:
    """A UTC moment to the minute, short enough for a headline: ``2025-12-03 23:46``."""
    return DASH if value is None else value.strftime("%Y-%m-%d %H:%M")


def age(value: timedelta | None) -> str:
    """A duration in days and hours (``3d 4h``), hours and minutes under a day."""
    if value is None:
        return DASH
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes}m"
    return f"{sign}{minutes}m"


def seconds(value: Decimal | None) -> str:
    """A run's duration: ``42.3 s``."""
    if value is None:
        return DASH
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN):,.1f} s"


def raw_float(value: float | None) -> str:
    """A raw double from the bot's table, as PostgreSQL writes it (shortest exact form)."""
    if value is None:
        return DASH
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    text = repr(value)  # the shortest form that reads back as the same double
    return text[:-2] if text.endswith(".0") else text
