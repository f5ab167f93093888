"""Random but reproducible fill histories for benchmarks and large tests.

Unlike the demo data, these are not meant to look like the bot: they are
meant to stress FIFO. Every symbol walks through buys and sells with float
sizes (so the float -> numeric cast leaves residue), equal timestamps, sells
that close inventory exactly, partial sells, and oversells. Like the bot's
old matcher, every sell names a legacy parent (`parent_id`): usually its
symbol's latest buy, one in a hundred the latest buy of a symbol drawn at
random, one in two hundred an order that does not exist.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from trades_warehouse.loader import COLUMNS

NOTIONALS_USD = (15.0, 20.0, 25.0, 32.0)


def synthetic_rows(
    n_fills: int,
    n_symbols: int,
    *,
    seed: int = 7,
    start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
) -> Iterator[dict[str, object]]:
    """``n_fills`` filled orders over ``n_symbols`` symbols, rows ready for ``loader.load_rows``."""
    rng = random.Random(seed)
    # A stream of its own: the fills stay those of earlier releases.
    legacy = random.Random(seed + 1)
    latest_buy: list[str | None] = [None for _ in range(n_symbols)]
    symbols = [f"SYM{i:04d}-USD" for i in range(n_symbols)]
    prices = [rng.uniform(0.05, 500.0) for _ in symbols]
    inventory = [0.0 for _ in symbols]
    clocks = [start for _ in symbols]
    empty = dict.fromkeys(COLUMNS)
    for n in range(n_fills):
        s = rng.randrange(n_symbols)
        # One step in twenty shares its timestamp with the previous fill.
        if rng.random() >= 0.05:
            clocks[s] += timedelta(seconds=rng.randint(1, 3600))
        prices[s] *= rng.uniform(0.97, 1.03)
        price = prices[s]
        if inventory[s] <= 0 or rng.random() < 0.5:
            side = "buy"
            size = rng.choice(NOTIONALS_USD) * rng.uniform(0.9, 1.1) / price
            inventory[s] += size
        else:
            side = "sell"
            roll = rng.random()
            if roll < 0.4:
                size = inventory[s]  # closes the position, up to float residue
            elif roll < 0.9:
                size = inventory[s] * rng.uniform(0.1, 0.9)
            else:
                size = inventory[s] * rng.uniform(1.1, 2.0)  # oversell
            inventory[s] = max(inventory[s] - size, 0.0)
        order_id = f"{symbols[s]}-{n:08d}"
        parent_id: str | None = None
        if side == "buy":
            latest_buy[s] = order_id
        else:
            roll = legacy.random()
            if roll < 0.005:
                parent_id = f"missing-{n:08d}"
            elif roll < 0.015:
                parent_id = latest_buy[legacy.randrange(n_symbols)]
            else:
                parent_id = latest_buy[s]
        row = dict(empty)
        row.update(
            order_id=order_id,
            symbol=symbols[s],
            side=side,
            order_time=clocks[s],
            price=price,
            size=size,
            total_fees_usd=price * size * rng.choice((0.0, 0.004, 0.006)),
            status="filled",
            source="synthetic",
            parent_id=parent_id,
        )
        yield row
