"""`load` on cut, corrupted and oversized copies of files whose orders are already loaded.

Every outcome is exit 2 with the file and line, or exit 0 with exactly what
the (corrupted) file says upserted; never a traceback or another exit code,
and never an existing cell changed that the file does not set.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import Warehouse
from test_loader import assert_clean_exit, invoke_load
from trades_warehouse import loader

ORDERS: list[dict[str, Any]] = [
    {
        "order_id": f"o{n}",
        "parent_ids": [f"o{n - 1}"] if n % 2 else [],
        "symbol": ["AVAX-USD", "BTC-USD", 'ODD,"NAME"'][n % 3],
        "side": "sell" if n % 2 else "buy",
        "order_time": f"2025-12-0{n}T10:0{n}:00.123456+00:00",
        "price": 10.5 + n / 3,
        "size": 2.25 * n,
        "total_fees_usd": 0.01 * n,
        "trigger": {"trigger": "take_profit", "level": n, "note": "line\nbreak"} if n % 2 else "roc_buy",
        "status": "filled",
        "source": "webhook",
    }
    for n in range(1, 6)
]
FIELDS = list(ORDERS[0])


def as_csv(orders: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)  # lines end with \r\n, as Excel writes them
    writer.writerow(FIELDS)
    for order in orders:
        writer.writerow(
            [json.dumps(v) if isinstance(v, (dict, list)) else v for v in (order[f] for f in FIELDS)]
        )
    return out.getvalue().encode()


BASE_FILES: dict[str, bytes] = {
    "orders.csv": as_csv(ORDERS),
    "orders.json": json.dumps(ORDERS, indent=1).encode(),
    "orders.jsonl": "".join(json.dumps(order) + "\n" for order in ORDERS).encode(),
}


def table(warehouse: Warehouse, name: str = "trade_records") -> dict[str, tuple[Any, ...]]:
    return {row[0]: row for row in warehouse.query(f"select * from {{raw}}.{name} order by order_id")}


@pytest.fixture(scope="module")
def fuzzed(make_warehouse: Callable[[str], Warehouse], tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Path]:
    """Every base file loaded (they agree), plus one order no file names; a snapshot to reset to."""
    warehouse = make_warehouse("fuzz")
    folder = tmp_path_factory.mktemp("fuzz")
    for name, data in BASE_FILES.items():
        (folder / name).write_bytes(data)
        assert_clean_exit(invoke_load(warehouse, folder / name), 0)
    warehouse.execute(
        "insert into {raw}.trade_records (order_id, symbol, side, price) values ('bystander', 'X-USD', 'buy', 1)"
    )
    warehouse.execute("create table {raw}.snapshot as select * from {raw}.trade_records")
    return warehouse, folder


def run(fuzzed: tuple[Warehouse, Path], name: str, data: bytes) -> tuple[int, dict[str, tuple[Any, ...]]]:
    """Reset the table, load ``data`` as file ``name``, check the outcome's form, return code and table."""
    warehouse, folder = fuzzed
    warehouse.execute("truncate {raw}.trade_records; insert into {raw}.trade_records select * from {raw}.snapshot")
    path = folder / name
    path.write_bytes(data)
    result = invoke_load(warehouse, path)
    assert result.exit_code in (0, 2), result.output
    assert_clean_exit(result, result.exit_code)
    if result.exit_code == 2:
        assert re.search(re.escape(f"rejected: {path}:") + r"\d+", result.stderr), result.stderr
    return result.exit_code, table(warehouse)


def expected_after(before: dict[str, tuple[Any, ...]], path: Path) -> dict[str, tuple[Any, ...]]:
    """The table after a correct load of ``path``: each cell the file gives replaced, no other."""
    after = {order_id: list(row) for order_id, row in before.items()}
    for row in loader.read_file(path).rows:
        cells = after.setdefault(str(row["order_id"]), [None] * len(loader.COLUMNS))
        for column, value in row.items():
            cells[loader.COLUMNS.index(column)] = json.loads(value) if column == "trigger" and value else value
    return {order_id: tuple(cells) for order_id, cells in after.items()}


def same(a: object, b: object) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


# Bytes that keep a file plausible (digits, letters) and bytes that break it.
PLAUSIBLE = st.sampled_from(b"0123456789.-+eEZTx :")
INSERTS = (
    PLAUSIBLE.map(lambda b: bytes([b]))
    | st.sampled_from([b"\x00", b'"', b"\xef\xbb\xbf", b",", b"\n", b"\r", b"{", b"[", b"]", b"\\", b"NaN"])
    | st.sampled_from([b"x" * 140_000, b"[" * 100_000])
    | st.binary(min_size=1, max_size=4)
)


@st.composite
def corrupted(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with one or two byte flips, insertions or deletions."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 2))):
        at = draw(st.integers(0, len(out)))
        kind = draw(st.sampled_from(["flip", "flip", "flip", "insert", "delete"]))
        if kind == "flip" and at < len(out):
            out[at] = draw(st.one_of(PLAUSIBLE, PLAUSIBLE, PLAUSIBLE, st.integers(0, 255)))
        elif kind == "insert":
            out[at:at] = draw(INSERTS)
        else:
            del out[at : at + draw(st.integers(1, 8))]
    return bytes(out)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(BASE_FILES)), cut=st.floats(0, 1, exclude_max=True))
def test_a_cut_file_changes_nothing(fuzzed: tuple[Warehouse, Path], name: str, cut: float) -> None:
    """Cut anywhere, a file is rejected or loads whole rows that equal what is there."""
    data = BASE_FILES[name]
    before = table(fuzzed[0], "snapshot")
    code, after = run(fuzzed, name, data[: int(cut * len(data))])
    assert after == before, code


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name_and_data=st.sampled_from(sorted(BASE_FILES.items())).flatmap(
    lambda item: st.tuples(st.just(item[0]), corrupted(item[1]))
))
def test_a_corrupted_file_is_rejected_or_loaded_as_written(
    fuzzed: tuple[Warehouse, Path], name_and_data: tuple[str, bytes]
) -> None:
    name, data = name_and_data
    before = table(fuzzed[0], "snapshot")
    code, after = run(fuzzed, name, data)
    event(f"{name} exit {code}")
    if code == 2:
        assert after == before, "nothing of a rejected file is loaded"
        return
    expected = expected_after(before, fuzzed[1] / name)
    assert after.keys() == expected.keys()
    for order_id, row in after.items():
        wrong = [c for c, a, e in zip(loader.COLUMNS, row, expected[order_id]) if not same(a, e)]
        assert not wrong, (order_id, wrong, row, expected[order_id])
