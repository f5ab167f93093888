"""An independent FIFO, in plain Python with Decimal, to check the SQL against.

Written from the contract, not from the SQL: a deque of open lots per symbol,
each sell takes from the front. It shares no code with the warehouse.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext

def to_numeric(value: float) -> Decimal:
    """PostgreSQL's float8 -> numeric cast: 15 significant digits."""
    return Decimal(f"{value:.15g}")


@dataclass(frozen=True)
class Fill:
    order_id: str
    symbol: str
    side: str
    order_time: datetime
    size: Decimal
    price: Decimal
    fees: Decimal


@dataclass(frozen=True)
class Allocation:
    sell_order_id: str
    buy_order_id: str | None
    size: Decimal
    pnl: Decimal | None


def fifo(fills: list[Fill]) -> list[Allocation]:
    """Every allocation piece, however small: sizes are exact."""
    out: list[Allocation] = []
    by_symbol: dict[str, list[Fill]] = defaultdict(list)
    for fill in fills:
        by_symbol[fill.symbol].append(fill)
    with localcontext() as ctx:
        ctx.prec = 80
        for symbol_fills in by_symbol.values():
            symbol_fills.sort(key=lambda f: (f.order_time, 0 if f.side == "buy" else 1, f.order_id))
            lots: deque[list[object]] = deque()  # [fill, remaining]
            for fill in symbol_fills:
                if fill.side == "buy":
                    lots.append([fill, fill.size])
                    continue
                need = fill.size
                while need > 0 and lots:
                    lot_fill, remaining = lots[0]
                    assert isinstance(lot_fill, Fill) and isinstance(remaining, Decimal)
                    take = min(need, remaining)
                    cost = (lot_fill.price + lot_fill.fees / lot_fill.size) * take
                    net = (fill.price - fill.fees / fill.size) * take
                    out.append(Allocation(fill.order_id, lot_fill.order_id, take, net - cost))
                    need -= take
                    remaining -= take
                    if remaining == 0:
                        lots.popleft()
                    else:
                        lots[0][1] = remaining
                if need > 0:
                    out.append(Allocation(fill.order_id, None, need, None))
    return out


def compare(sql_rows: list[tuple[str, str | None, Decimal, Decimal | None]], expected: list[Allocation]) -> list[str]:
    """Differences between SQL allocations and the reference: sizes exactly, P&L within 1e-9."""
    problems: list[str] = []
    actual = {(s, b): (size, pnl) for s, b, size, pnl in sql_rows}
    wanted = {(a.sell_order_id, a.buy_order_id): (a.size, a.pnl) for a in expected}
    if len(actual) != len(sql_rows):
        problems.append("duplicate (sell, buy) pairs in SQL output")
    for key in sorted(set(actual) | set(wanted), key=str):
        if key not in actual:
            problems.append(f"missing in SQL: {key} {wanted[key]}")
        elif key not in wanted:
            problems.append(f"extra in SQL: {key} {actual[key]}")
        else:
            (size_a, pnl_a), (size_w, pnl_w) = actual[key], wanted[key]
            if size_a != size_w:
                problems.append(f"size {key}: SQL {size_a} reference {size_w}")
            if (pnl_a is None) != (pnl_w is None) or (
                pnl_a is not None and pnl_w is not None and abs(pnl_a - pnl_w) > Decimal("1e-9")
            ):
                problems.append(f"pnl {key}: SQL {pnl_a} reference {pnl_w}")
    return problems
