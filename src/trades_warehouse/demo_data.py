"""Deterministic demo orders: a raw ``trade_records`` table as the trading bot writes it.

The warehouse exists because the bot's own P&L columns are wrong, so the demo
must reproduce both halves of the problem: realistic order flow that a correct
FIFO can price, and the legacy columns exactly as the broken matcher filled
them (every sell "matched" to the first buy ever made of its symbol). Three
incidents from production (SAPIEN, AVAX, PENGU) are always present with fixed
order ids, so that tests and the demo summary can point at them.

Everything comes from one ``random.Random(seed)``: the same arguments give the
same rows on every call and every machine. Sizes are exchange quantities
(rounded to the product's base increment); open lots are tracked in Decimal
so that every closing sell, once PostgreSQL casts it to numeric, consumes its
lots exactly and leaves no dust in front of the story lots.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

COLUMNS: tuple[str, ...] = (
    "order_id", "parent_id", "parent_ids", "symbol", "side", "order_time", "price", "size",
    "total_fees_usd", "trigger", "order_type", "status", "source", "pnl_usd", "realized_profit",
    "cost_basis_usd", "sale_proceeds_usd", "net_sale_proceeds_usd", "remaining_size",
    "ingest_via", "last_reconciled_at", "last_reconciled_via",
)

STORY_ORDER_IDS: dict[str, str] = {
    f"{story}_{leg}": f"story-{story}-{leg.replace('_', '-')}"
    for story in ("sapien", "avax", "pengu")
    for leg in ("first_buy", "first_sell", "buy", "sell")
}

DEFAULT_END = datetime(2025, 12, 4, 0, 0, tzinfo=UTC)
SAPIEN_FIRST_BUY_AT = datetime(2025, 9, 10, 4, 46, tzinfo=UTC)
MIN_DAYS = 7  # room for the stories: first lots early, closed, then the recent round trips

# The notional each buy trigger spends: staging can infer a missing trigger from it.
BUY_NOTIONALS: dict[str, float] = {"signal_matrix": 15.0, "roc_buy": 20.0, "webhook": 25.0, "passive_mm": 32.0}
BUY_TRIGGERS = ("roc_buy", "signal_matrix", "webhook", "passive_mm", "websocket", "score_buy")
BUY_TRIGGER_WEIGHTS = (30, 20, 20, 15, 10, 5)
WIN_SELLS = ("take_profit", "trailing_stop", "roc_sell", "signal_sell", "passive_mm")
LOSS_SELLS = ("stop_loss", "roc_sell", "signal_sell", "trailing_stop", "manual")
SOURCE_OF_TRIGGER: dict[str, str] = {
    "webhook": "webhook", "websocket": "websocket", "passive_mm": "passive_mm", "manual": "manual",
    "take_profit": "websocket", "stop_loss": "websocket", "trailing_stop": "websocket",
}
NON_FILL_STATUSES = ("open", "cancelled", "failed", "expired", "rejected")
NON_FILL_RATE = 0.08
OVERSELL_RATE = 0.03  # chance that a sell decided on an empty book still goes out


@dataclass(frozen=True)
class Market:
    """A product with its price at the window's start and end: walks are bridged between them."""

    symbol: str
    start_price: float
    end_price: float
    size_decimals: int  # the exchange's base increment, 10**-size_decimals
    daily_vol: float
    weight: float = 1.0


# Story symbols come first so that any n_symbols >= 3 keeps the incidents.
CATALOG: tuple[Market, ...] = (
    Market("SAPIEN-USD", 0.236, 0.1745, 1, 0.07), Market("AVAX-USD", 29.9, 13.45, 8, 0.05),
    Market("PENGU-USD", 0.0097, 0.0119, 0, 0.07), Market("BTC-USD", 111000.0, 92500.0, 8, 0.025, 2.0),
    Market("ETH-USD", 4300.0, 3150.0, 8, 0.035, 1.8), Market("SOL-USD", 205.0, 142.0, 8, 0.045, 1.5),
    Market("DOGE-USD", 0.215, 0.148, 1, 0.055, 1.2), Market("ADA-USD", 0.83, 0.43, 2, 0.05),
    Market("XRP-USD", 2.82, 2.07, 6, 0.045, 1.2), Market("LINK-USD", 22.4, 14.1, 8, 0.05),
    Market("LTC-USD", 112.0, 84.0, 8, 0.04), Market("DOT-USD", 3.9, 2.2, 8, 0.05),
    Market("SUI-USD", 3.35, 1.62, 1, 0.06), Market("NEAR-USD", 2.45, 1.82, 8, 0.055),
    Market("APT-USD", 4.3, 1.95, 2, 0.055), Market("ARB-USD", 0.49, 0.21, 2, 0.06),
    Market("OP-USD", 0.72, 0.33, 2, 0.06), Market("UNI-USD", 9.7, 5.6, 6, 0.05),
    Market("AAVE-USD", 300.0, 185.0, 3, 0.05), Market("BONK-USD", 0.0000215, 0.0000098, 0, 0.08),
    Market("SHIB-USD", 0.0000124, 0.0000083, 0, 0.06), Market("FET-USD", 0.64, 0.25, 1, 0.065),
    Market("HBAR-USD", 0.22, 0.145, 2, 0.055), Market("XLM-USD", 0.37, 0.245, 6, 0.05),
)


@dataclass(frozen=True)
class Order:
    """What happened on the exchange, before the bot's messy bookkeeping is applied."""

    order_id: str
    symbol: str
    side: str
    time: datetime
    price: float
    size: float
    fees: float | None
    trigger: str | None
    order_type: str
    status: str  # "filled" or a non-fill status
    source: str

    @property
    def is_fill(self) -> bool:
        return self.status == "filled"


@dataclass
class Lot:
    """An open buy: remaining is exact, as PostgreSQL's numeric will see it."""

    price: float
    remaining: Decimal


@dataclass
class PricePath:
    """Hourly prices of one market; in between, linear interpolation."""

    start: datetime
    hourly: list[float]

    def at(self, when: datetime) -> float:
        hours = (when - self.start).total_seconds() / 3600
        low = min(max(int(hours), 0), len(self.hourly) - 2)
        weight = min(max(hours - low, 0.0), 1.0)
        return self.hourly[low] * (1 - weight) + self.hourly[low + 1] * weight


def _new_id(rng: random.Random) -> str:
    """A uuid-shaped id from the seeded RNG (uuid4 would break determinism)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def _round_price(price: float) -> float:
    """About five significant digits, like an exchange's quote increment."""
    return round(price, max(2, 4 - math.floor(math.log10(price))))


def _exact(size: float) -> Decimal:
    """The numeric PostgreSQL makes of a float8 (15 significant digits)."""
    return Decimal(f"{size:.15g}")


def _as_float(parts: list[Decimal]) -> float:
    """Sum lot sizes as the bot does, in floats (hence 0.30000000000000004-style residue),
    unless the residue would survive the numeric cast and leave dust in a lot."""
    summed = sum((float(p) for p in parts), 0.0)
    return summed if _exact(summed) == sum(parts, Decimal(0)) else float(sum(parts, Decimal(0)))


def _story_fill(key: str, side: str, when: datetime, price: float, size: float, fees: float,
                trigger: str | None) -> Order:
    """One fixed order of an incident, with its fixed id."""
    symbol = key.split("_")[0].upper() + "-USD"
    source = SOURCE_OF_TRIGGER.get(trigger or "manual", "sighook")
    order_type = "limit" if side == "buy" else "market"
    return Order(STORY_ORDER_IDS[key], symbol, side, when, price, size, fees, trigger, order_type, "filled", source)


def _story_orders(start: datetime, end: datetime) -> list[Order]:
    """The three incidents, four orders each.

    Each symbol's first buy ever is sold whole days later, so a correct FIFO
    matches the recent sell to the recent buy, while the legacy matcher prices
    it against that long-gone first lot. Background trading of these symbols
    runs between the two pairs and ends flat (see ``_simulate``).
    """
    fits = start <= SAPIEN_FIRST_BUY_AT < end - timedelta(days=MIN_DAYS - 2)
    sapien_at = SAPIEN_FIRST_BUY_AT if fits else start
    avax_at, pengu_at = start + timedelta(hours=5, minutes=7), start + timedelta(hours=8, minutes=7)
    m = timedelta(minutes=1)
    return [
        # FIFO: (0.17357 - 0.17477) * 188.9 = -0.22668, maker fills without fees; legacy -11.81.
        _story_fill("sapien_first_buy", "buy", sapien_at, 0.2349, 213.1, 0.250286, "websocket"),
        _story_fill("sapien_first_sell", "sell", sapien_at + 3074 * m, 0.25, 213.1, 0.266375, "take_profit"),
        _story_fill("sapien_buy", "buy", end - 49 * m, 0.17477, 188.9, 0.0, "passive_mm"),
        _story_fill("sapien_sell", "sell", end - 47 * m, 0.17357, 188.9, 0.0, "passive_mm"),
        # FIFO: 16.6707 * (13.50 - 13.38) - 1.1309 - 1.141 = -0.27; legacy against the 29.87 lot: -276.53.
        _story_fill("avax_first_buy", "buy", avax_at, 29.87, 40.0, 5.974, None),  # by hand
        _story_fill("avax_first_sell", "sell", avax_at + 4620 * m, 31.36, 40.0, 6.272, "take_profit"),
        _story_fill("avax_buy", "buy", end - 370 * m, 13.38, 16.6707, 1.1309, "websocket"),
        _story_fill("avax_sell", "sell", end - 145 * m, 13.50, 16.6707, 1.141, "trailing_stop"),
        # FIFO: 2059 * (0.011787 - 0.01214) - fees = -0.97; legacy against the 0.009712 lot: +4.05.
        _story_fill("pengu_first_buy", "buy", pengu_at, 0.009712, 3295.0, 0.160005, "passive_mm"),
        _story_fill("pengu_first_sell", "sell", pengu_at + 1860 * m, 0.01015, 3295.0, 0.167221, "take_profit"),
        _story_fill("pengu_buy", "buy", end - 1920 * m, 0.01214, 2059.0, 0.124981, "webhook"),
        _story_fill("pengu_sell", "sell", end - 1590 * m, 0.011787, 2059.0, 0.121347, "stop_loss"),
    ]


def _story_windows(orders: list[Order]) -> dict[str, tuple[datetime, datetime]]:
    """Story symbols trade only between the first lot's sale and the recent buy."""
    by_id = {o.order_id: o for o in orders}
    windows = {}
    for name in ("sapien", "avax", "pengu"):
        first_sell, buy = by_id[STORY_ORDER_IDS[f"{name}_first_sell"]], by_id[STORY_ORDER_IDS[f"{name}_buy"]]
        windows[buy.symbol] = (first_sell.time + timedelta(hours=1), buy.time - timedelta(hours=3))
    return windows


def _price_path(rng: random.Random, market: Market, start: datetime, days: int) -> PricePath:
    """A log random walk bridged to the market's start and end prices, so that the
    fixed story prices sit in a plausible market rather than out of nowhere."""
    hours = days * 24
    sigma = market.daily_vol / math.sqrt(24)
    walk = [0.0]
    for _ in range(hours):
        walk.append(walk[-1] + rng.gauss(0.0, sigma))
    a, b = math.log(market.start_price), math.log(market.end_price)
    bridge = [a + (b - a - walk[-1]) * h / hours + walk[h] for h in range(hours + 1)]
    return PricePath(start, [math.exp(x) for x in bridge])


def _sell_parts(rng: random.Random, lots: deque[Lot], decimals: int) -> list[Decimal]:
    """How much of which lots a sell takes: one lot, several, part of one, or everything."""
    mode = rng.choices(("one", "several", "partial", "all"), weights=(55, 15, 18, 12))[0]
    if mode == "partial":
        step = Decimal(1).scaleb(-decimals)
        part = (lots[0].remaining * Decimal(rng.uniform(0.3, 0.7))).quantize(step, ROUND_DOWN)
        if 0 < part < lots[0].remaining:
            return [part]
    count = {"several": rng.randint(2, 3), "all": len(lots)}.get(mode, 1)
    return [lot.remaining for lot in list(lots)[:count]]


def _simulate(rng: random.Random, market: Market, path: PricePath, window: tuple[datetime, datetime],
              count: int, flatten: bool) -> list[Order]:
    """Background orders of one market, in time order, with FIFO inventory kept exact.

    ``flatten`` (story markets) forbids oversells and makes the last order close
    every open lot, so that the story's recent buy is the oldest open lot.
    """
    lo, hi = window
    span = (hi - lo).total_seconds()
    times = sorted(lo + timedelta(seconds=round(rng.random() * span, 6)) for _ in range(count))
    lots: deque[Lot] = deque()
    orders: list[Order] = []
    same_time_sell = False
    for i, when in enumerate(times):
        if same_time_sell:  # stamped with the buy's very timestamp; FIFO puts buys first
            when = orders[-1].time
        price = _round_price(path.at(when) * (1 + rng.gauss(0.0, 0.002)))
        last = flatten and i == count - 1
        if (last and not lots) or (not last and not same_time_sell and rng.random() < NON_FILL_RATE):
            orders.append(_non_fill(rng, market, when, price))
            same_time_sell = False
            continue
        sells = rng.random() < 0.47 if lots else not flatten and rng.random() < OVERSELL_RATE
        if last or same_time_sell or sells:
            if not lots:  # oversell: the bot sells what it does not hold (FIFO leaves it unmatched)
                parts = [_exact(round(25.0 / price, market.size_decimals))]
            elif last:
                parts = [lot.remaining for lot in lots]
            else:
                parts = _sell_parts(rng, lots, market.size_decimals)
            trigger = rng.choice(WIN_SELLS if lots and price > lots[0].price else LOSS_SELLS)
            for part in parts if lots else []:
                lots[0].remaining -= part
                if lots[0].remaining == 0:
                    lots.popleft()
            side, size = "sell", _as_float(parts)
        else:
            trigger = rng.choices(BUY_TRIGGERS, weights=BUY_TRIGGER_WEIGHTS)[0]
            notional = BUY_NOTIONALS.get(trigger) or round(rng.uniform(40.0, 150.0), 2)
            side, size = "buy", round(notional / price, market.size_decimals)
            lots.append(Lot(price, _exact(size)))
        fees = None if rng.random() < 0.015 else price * size * rng.uniform(0.004, 0.006)
        order_type = rng.choices(("limit", "market", "bracket"), weights=(60, 30, 10))[0]
        orders.append(Order(_new_id(rng), market.symbol, side, when, price, size, fees, trigger,
                            order_type, "filled", SOURCE_OF_TRIGGER.get(trigger, "sighook")))
        same_time_sell = side == "buy" and i + 1 < count and rng.random() < 0.03
    return orders


def _non_fill(rng: random.Random, market: Market, when: datetime, price: float) -> Order:
    """An order that never filled: it has a price and size but no part in P&L."""
    side = "buy" if rng.random() < 0.65 else "sell"
    if side == "buy":
        trigger = rng.choices(BUY_TRIGGERS, weights=BUY_TRIGGER_WEIGHTS)[0]
    else:
        trigger = rng.choice(LOSS_SELLS)
    size = round(BUY_NOTIONALS.get(trigger, 50.0) / price, market.size_decimals)
    return Order(_new_id(rng), market.symbol, side, when, price, size, 0.0, trigger, "limit",
                 rng.choice(NON_FILL_STATUSES), SOURCE_OF_TRIGGER.get(trigger, "sighook"))


def _markets(n_symbols: int) -> list[Market]:
    """The first n catalog markets (always the story ones); made-up altcoins past the catalog."""
    chosen = list(CATALOG[: max(n_symbols, 3)])
    for i in range(len(chosen), n_symbols):
        start_price = round(0.5 + 0.37 * i, 2)
        chosen.append(Market(f"ALT{i + 1}-USD", start_price, round(start_price * 0.7, 2), 2, 0.06))
    return chosen


def _allocate(rng: random.Random, markets: list[Market], budget: int) -> list[int]:
    """Split the background orders over markets by weight, at least one each when possible."""
    counts = [1 if budget >= len(markets) else 0 for _ in markets]
    rest = budget - sum(counts)
    weights = [m.weight * rng.uniform(0.6, 1.4) for m in markets]
    total = sum(weights)
    shares = [math.floor(rest * w / total) for w in weights]
    for index in rng.choices(range(len(markets)), weights=weights, k=rest - sum(shares)):
        shares[index] += 1
    return [c + s for c, s in zip(counts, shares)]


def _messy(rng: random.Random, symbol: str, side: str, source: str) -> tuple[str, str, str]:
    """The spellings the bot's writers produced over time for one and the same value."""
    r = rng.random()
    if r < 0.05:
        symbol = (f" {symbol} ", symbol.lower(), symbol.lower().replace("-", "/"))[int(r / 0.05 * 3)]
    if rng.random() < 0.04:
        side = rng.choice((side.upper(), f" {side.capitalize()} ", side.capitalize()))
    r = rng.random()
    if r < 0.03:
        source = "reconciled"
    elif r < 0.07:
        source = source.upper() if r < 0.05 else f" {source} "
    return symbol, side, source


def _trigger_value(rng: random.Random, name: str | None) -> object:
    """The JSON the bot stored: mostly {"trigger": ...}, else a bare string, an older key or nothing."""
    r = rng.random()
    if name is None or r < 0.06:
        return None
    if r < 0.13:
        return name
    return {"name": name} if r < 0.16 else {"trigger": name}


def _legacy(rng: random.Random, order: Order, first_buy: Order | None) -> dict[str, object]:
    """The legacy matcher's columns: every sell priced against the symbol's first buy ever.

    This is the bug the warehouse corrects, reproduced on purpose: the first buy
    is used whatever earlier sells already took from it.
    """
    legacy: dict[str, object] = dict.fromkeys(
        ("parent_id", "parent_ids", "pnl_usd", "realized_profit", "cost_basis_usd", "sale_proceeds_usd",
         "net_sale_proceeds_usd", "remaining_size"))
    if not order.is_fill:
        return legacy
    if order.side == "buy":  # never decremented, sometimes zeroed: garbage either way
        legacy["remaining_size"] = rng.choices((order.size, 0.0, None), weights=(55, 35, 10))[0]
        return legacy
    if first_buy is None:
        return legacy
    cost = first_buy.price * order.size + (first_buy.fees or 0.0) * order.size / first_buy.size
    proceeds = order.price * order.size
    net = proceeds - (order.fees or 0.0)
    legacy.update(parent_id=first_buy.order_id, parent_ids=[first_buy.order_id], pnl_usd=net - cost,
                  realized_profit=net - cost, cost_basis_usd=cost, sale_proceeds_usd=proceeds,
                  net_sale_proceeds_usd=net)
    return legacy


def _to_row(rng: random.Random, order: Order, first_buy: Order | None, end: datetime) -> dict[str, object]:
    """One raw row as the bot wrote it; story rows keep clean spellings so they are easy to find."""
    symbol, side, source = _messy(rng, order.symbol, order.side, order.source)
    trigger = _trigger_value(rng, order.trigger)
    r = rng.random()
    status: str | None = order.status
    if order.is_fill:
        status = "done" if r < 0.08 else None if r < 0.14 else "filled"
    if order.order_id.startswith("story-"):
        symbol, side, source = order.symbol, order.side, order.source
        trigger = {"trigger": order.trigger} if order.trigger else None
        status = order.status
    ingest = "reconcile" if source == "reconciled" else rng.choices(
        ("websocket", "rest", "reconcile"), weights=(70, 25, 5))[0]
    reconciled_at: datetime | None = None
    reconciled_via: str | None = None
    if ingest == "reconcile" or rng.random() < 0.15:
        reconciled_at = min(order.time + timedelta(minutes=rng.uniform(1.0, 720.0)), end)
        reconciled_via = "reconcile" if ingest == "reconcile" else "rest"
    row: dict[str, object] = {
        "order_id": order.order_id, "symbol": symbol, "side": side, "order_time": order.time,
        "price": order.price, "size": order.size, "total_fees_usd": order.fees, "trigger": trigger,
        "order_type": order.order_type, "status": status, "source": source, "ingest_via": ingest,
        "last_reconciled_at": reconciled_at, "last_reconciled_via": reconciled_via,
    }
    row.update(_legacy(rng, order, first_buy))
    return {column: row[column] for column in COLUMNS}


def untrusted_rows(end: datetime) -> list[dict[str, object]]:
    """Rows the bot really wrote now and then, that staging must quarantine with a reason."""
    base: dict[str, object] = dict.fromkeys(COLUMNS)
    base.update(symbol="DOGE-USD", side="buy", price=0.31, size=50.0, total_fees_usd=0.09,
                status="filled", source="websocket", order_type="market", ingest_via="websocket")
    variants: list[dict[str, object]] = [
        {"order_id": "bad-nan-price", "price": math.nan, "order_time": end - timedelta(days=3)},
        {"order_id": "bad-zero-size", "size": 0.0, "order_time": end - timedelta(days=5)},
        {"order_id": "bad-negative-size", "size": -12.5, "order_time": end - timedelta(days=8)},
        {"order_id": "bad-infinite-size", "size": math.inf, "order_time": end - timedelta(days=9)},
        {"order_id": "bad-negative-fees", "total_fees_usd": -0.02, "order_time": end - timedelta(days=11)},
        {"order_id": "bad-side", "side": "hold", "order_time": end - timedelta(days=13)},
        {"order_id": "bad-no-time", "order_time": None},
        {"order_id": "bad-future", "order_time": datetime(2099, 1, 1, tzinfo=UTC)},
    ]
    return [{**base, **variant} for variant in variants]


def generate_demo_rows(
    seed: int = 20251203,
    n_orders: int = 5000,
    n_symbols: int = 22,
    days: int = 90,
    end: datetime = DEFAULT_END,
    *,
    include_untrusted: bool = True,
) -> list[dict[str, object]]:
    """``n_orders`` raw order rows over ``days`` days up to ``end``, sorted by order_time,
    followed (unless ``include_untrusted`` is false) by the rows of ``untrusted_rows``.

    Deterministic for given arguments: only ``random.Random(seed)`` is used.
    """
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    if days < MIN_DAYS:
        raise ValueError(f"days must be at least {MIN_DAYS} to hold the incident stories")
    end = end.astimezone(UTC)
    start = end - timedelta(days=days)
    rng = random.Random(seed)
    orders = _story_orders(start, end)
    windows = _story_windows(orders)
    if n_orders < len(orders):
        raise ValueError(f"n_orders must be at least {len(orders)} (the story orders)")
    markets = _markets(n_symbols)
    for market, count in zip(markets, _allocate(rng, markets, n_orders - len(orders))):
        path = _price_path(rng, market, start, days)
        window = windows.get(market.symbol, (start + timedelta(minutes=1), end - timedelta(minutes=1)))
        orders.extend(_simulate(rng, market, path, window, count, flatten=market.symbol in windows))
    orders.sort(key=lambda o: (o.time, o.side != "buy", o.order_id))  # FIFO order: buys first on ties
    first_buys: dict[str, Order] = {}
    rows = []
    for order in orders:
        if order.is_fill and order.side == "buy":
            first_buys.setdefault(order.symbol, order)
        rows.append(_to_row(rng, order, first_buys.get(order.symbol), end))
    if include_untrusted:
        rows.extend(untrusted_rows(end))
    return rows


def main() -> None:
    """Print a summary of the default demo and check determinism, count, ids and order."""
    rows = generate_demo_rows(include_untrusted=False)
    if rows != generate_demo_rows(include_untrusted=False):
        raise SystemExit("not deterministic")
    ids = [str(r["order_id"]) for r in rows]
    times = [t for t in (r["order_time"] for r in rows) if isinstance(t, datetime)]
    if len(rows) != 5000 or len(set(ids)) != len(ids) or not set(STORY_ORDER_IDS.values()) <= set(ids):
        raise SystemExit("wrong row count, duplicate ids or a missing story order")
    if len(times) != len(rows) or times != sorted(times):
        raise SystemExit("order_time missing or rows not sorted by it")
    symbols = Counter(str(r["symbol"]).strip().upper().replace("/", "-") for r in rows)
    statuses = Counter(str(r["status"]) for r in rows)
    sides = Counter(str(r["side"]).strip().lower() for r in rows)
    print(f"rows: {len(rows)}  from {times[0]} to {times[-1]}")
    print(f"symbols: {len(symbols)}  " + ", ".join(f"{s} {n}" for s, n in symbols.most_common()))
    print("statuses: " + ", ".join(f"{s} {n}" for s, n in statuses.most_common()))
    print("sides: " + ", ".join(f"{s} {n}" for s, n in sides.most_common()))
    by_id = {str(r["order_id"]): r for r in rows}
    for key in ("sapien_sell", "avax_sell", "pengu_sell"):
        row = by_id[STORY_ORDER_IDS[key]]
        print(f"{key}: {row['order_time']}  legacy parent {row['parent_id']}  legacy pnl {row['pnl_usd']:.2f}")


if __name__ == "__main__":
    main()
