"""Python values from what psycopg returns for the marts' columns, shared by the report and the dashboard.

Money and sizes stay Decimal (never float); a missing sum is zero where the
marts mean zero, and None where they mean "not defined".
"""

from __future__ import annotations

from decimal import Decimal


def dec(value: object) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def opt_dec(value: object) -> Decimal | None:
    return None if value is None else dec(value)


def opt_float(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if number != number else number  # NaN -> None


def as_int(value: object) -> int:
    return 0 if value is None else int(value)  # type: ignore[call-overload]
