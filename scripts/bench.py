#!/usr/bin/env python3
"""FIFO speed, measured: N generated fills over S symbols, on the configured PostgreSQL.

Prints, from one run on one database: load time, the staging build, the full
build of the FIFO models (fct_fifo_allocations, fct_buy_lots, fct_trades) as
dbt reports each node's execution, one window running sum over the same
fills sorted per symbol (the floor any set-based method pays), and the ratio.

    scripts/bench.py                     # 1,000,000 fills over 200 symbols
    scripts/bench.py --fills 100000 --symbols 50
"""

from __future__ import annotations

import argparse
import time

from trades_warehouse import database, dbt_invoke, loader
from trades_warehouse.synthetic import synthetic_rows

FIFO_MODELS = ("fct_fifo_allocations", "fct_buy_lots", "fct_trades")


def node_seconds(outcome: dbt_invoke.DbtOutcome) -> dict[str, float]:
    times: dict[str, float] = {}
    for result in getattr(outcome.results, "results", None) or []:
        times[result.node.name] = float(result.execution_time)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fills", type=int, default=1_000_000)
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--schema", default="bench", help="target schema; the source is <schema>_raw")
    args = parser.parse_args()

    connection = database.resolve_connection()
    source, target = f"{args.schema}_raw", args.schema
    print(f"database: {connection.describe()}")

    started = time.perf_counter()
    rows = list(synthetic_rows(args.fills, args.symbols, seed=args.seed))
    generated = time.perf_counter()
    loader.load_rows(connection, source, rows, replace=True)
    loaded = time.perf_counter()
    del rows
    print(f"generate {args.fills:,} fills over {args.symbols} symbols: {generated - started:8.2f} s")
    print(f"load (COPY + upsert):                          {loaded - generated:8.2f} s")

    dbt_invoke.apply_environment(connection, source_schema=source, target_schema=target)
    staging = dbt_invoke.run_dbt(["run", "--quiet", "--select", "staging"])
    if not staging.success:
        raise SystemExit(f"staging build failed: {staging.failures or staging.exception}")
    stage_times = node_seconds(staging)
    print(f"staging build (stg_trading_bot__orders table): {stage_times.get('stg_trading_bot__orders', 0):8.2f} s")

    wall = time.perf_counter()
    fifo = dbt_invoke.run_dbt(["run", "--quiet", "--select", " ".join(FIFO_MODELS)])
    wall = time.perf_counter() - wall
    if not fifo.success:
        raise SystemExit(f"FIFO build failed: {fifo.failures or fifo.exception}")
    fifo_times = node_seconds(fifo)
    for model in FIFO_MODELS:
        print(f"  {model:<45} {fifo_times.get(model, 0):8.2f} s")
    fifo_total = sum(fifo_times.get(m, 0) for m in FIFO_MODELS)
    allocations_only = fifo_times.get("fct_fifo_allocations", 0)
    print(f"FIFO models, sum of node times:                {fifo_total:8.2f} s   (dbt wall {wall:.2f} s)")

    with connection.connect() as conn:
        conn.execute(f'drop table if exists "{target}_marts".bench_window_floor')
        floor_start = time.perf_counter()
        conn.execute(
            f'create table "{target}_marts".bench_window_floor as'
            " select order_id, sum(case side when 'buy' then size else -size end) over ("
            "   partition by symbol order by order_time, case side when 'buy' then 0 else 1 end, order_id"
            " ) as balance"
            f' from "{target}_staging".stg_trading_bot__fills'
        )
        conn.commit()
        floor = time.perf_counter() - floor_start
        conn.execute(f'drop table "{target}_marts".bench_window_floor')
        conn.commit()
        (allocations,) = conn.execute(f'select count(*) from "{target}_marts".fct_fifo_allocations').fetchone() or (0,)
    print(f"floor: one window running sum over the fills:  {floor:8.2f} s")
    print(f"allocations: {allocations:,}")
    print(f"ratio fct_fifo_allocations / floor:            {allocations_only / floor:8.2f}")
    print(f"ratio all FIFO models / floor:                 {fifo_total / floor:8.2f}")


if __name__ == "__main__":
    main()
