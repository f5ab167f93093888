"""`load` as users call it: nothing of a bad file loaded, nothing known erased, no tracebacks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from psycopg import sql
from typer.testing import CliRunner

from conftest import Warehouse
from trades_warehouse.cli import app

HEADER = "order_id,symbol,side,order_time,price,size,total_fees_usd,trigger,status\n"
GOOD = (
    HEADER
    + "b1,AVAX-USD,buy,2025-12-01T10:00:00Z,10,2,0.1,roc_buy,filled\n"
    + "s1,AVAX-USD,sell,2025-12-01T11:00:00Z,11,2,0.1,take_profit,filled\n"
)
S1 = ("AVAX-USD", "sell", "2025-12-01 11:00:00+00", 11.0, 2.0, 0.1, "take_profit", "filled")


def invoke_load(warehouse: Warehouse, *paths: Path, env: Mapping[str, str] | None = None) -> Result:
    """The `load` command in-process, pointed at the warehouse's source schema."""
    settings = {**warehouse.connection.env(), "TRADES_SOURCE_SCHEMA": warehouse.source_schema, **(env or {})}
    return CliRunner().invoke(app, ["load", *map(str, paths)], env=settings)


def assert_clean_exit(result: Result, code: int) -> None:
    """The exit code asked for, and never a traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert result.exit_code == code, result.output


def s1(warehouse: Warehouse) -> tuple[Any, ...]:
    return warehouse.query(
        "select symbol, side, to_char(order_time at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS+00'), price, size,"
        " total_fees_usd, trigger #>> '{{}}', status from {raw}.trade_records where order_id = 's1'"
    )[0]


@pytest.fixture()
def loaded(make_warehouse: Callable[[str], Warehouse], tmp_path: Path) -> Warehouse:
    warehouse = make_warehouse("loader")
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    assert_clean_exit(invoke_load(warehouse, good), 0)
    assert s1(warehouse) == S1
    return warehouse


def test_truncated_csv_is_rejected_and_erases_nothing(loaded: Warehouse, tmp_path: Path) -> None:
    cut_at_comma = tmp_path / "cut_at_comma.csv"
    cut_at_comma.write_text(HEADER + "b1,AVAX-USD,buy,2025-12-01T10:00:00Z,10,3,0.1,roc_buy,filled\ns1,AVAX-USD,sell\n")
    result = invoke_load(loaded, cut_at_comma)
    assert_clean_exit(result, 2)
    assert f"{cut_at_comma}:3: column order_time: missing" in result.stderr
    cut_mid_field = tmp_path / "cut_mid_field.csv"
    cut_mid_field.write_text(GOOD[:-5])  # "...,fil": a whole row, but the file was cut
    result = invoke_load(loaded, cut_mid_field)
    assert_clean_exit(result, 2)
    assert f"{cut_mid_field}:3:" in result.stderr and "cut short" in result.stderr
    assert s1(loaded) == S1
    (size,) = loaded.query("select size from {raw}.trade_records where order_id = 'b1'")[0]
    assert size == 2.0, "nothing of a rejected file is loaded"


def test_missing_keeps_and_explicit_null_erases(loaded: Warehouse, tmp_path: Path) -> None:
    empty_cells = tmp_path / "empty_cells.csv"
    empty_cells.write_text(HEADER + "s1,,,,12,,,,\n")
    assert_clean_exit(invoke_load(loaded, empty_cells), 0)
    assert s1(loaded) == S1[:3] + (12.0,) + S1[4:], "an empty cell is not given: only the price changes"
    absent_keys = tmp_path / "absent.jsonl"
    absent_keys.write_text(json.dumps({"order_id": "s1", "size": 1.5}) + "\n")
    assert_clean_exit(invoke_load(loaded, absent_keys), 0)
    assert s1(loaded) == S1[:3] + (12.0, 1.5) + S1[5:]
    csv_null = tmp_path / "null.csv"
    csv_null.write_text("order_id,total_fees_usd,trigger\ns1,NULL,null\n")
    assert_clean_exit(invoke_load(loaded, csv_null), 0)
    json_null = tmp_path / "null.json"
    json_null.write_text(json.dumps([{"order_id": "s1", "status": None}]))
    assert_clean_exit(invoke_load(loaded, json_null), 0)
    assert s1(loaded) == S1[:3] + (12.0, 1.5, None, None, None)


def test_new_order_without_symbol_and_side_rejects_its_file(loaded: Warehouse, tmp_path: Path) -> None:
    partial = tmp_path / "partial.jsonl"
    partial.write_text(
        json.dumps({"order_id": "s1", "status": "done"}) + "\n"
        + json.dumps({"order_id": "n1", "side": "buy", "status": "filled"}) + "\n"
    )
    result = invoke_load(loaded, partial)
    assert_clean_exit(result, 2)
    assert f"{partial}:2: column symbol: missing" in result.stderr
    assert s1(loaded) == S1, "nothing of the file is loaded, not even the update of a known order"
    only_ids = tmp_path / "only_ids.csv"
    only_ids.write_text("order_id\ns1\nb1\n")
    assert_clean_exit(invoke_load(loaded, only_ids), 0)
    assert s1(loaded) == S1
    explicit = tmp_path / "explicit.csv"
    explicit.write_text("order_id,symbol,side\nn2,NULL,buy\n")
    assert_clean_exit(invoke_load(loaded, explicit), 0)
    assert loaded.query("select symbol, side from {raw}.trade_records where order_id = 'n2'") == [(None, "buy")]


NESTED = "[" * 100_000 + "]" * 100_000
HUGE = "x" * 200_000


ODD_FILES: list[tuple[str, str | bytes | None, str | None]] = [
    ("empty.jsonl", "", None),
    ("blank.jsonl", "\n\n", None),
    ("empty.csv", "", ":1:1: empty file"),
    ("empty.json", "", ":1:1: invalid JSON"),
    ("bom.csv", "\ufeff" + GOOD, None),
    ("nul.csv", GOOD.replace("roc_buy", "roc\x00buy"), ":2:50: a NUL character"),
    ("nul_escape.jsonl", '{"order_id": "b1", "source": "a\\u0000b"}\n', ":1: column source: cannot read"),
    ("surrogate.json", '[{"order_id": "b1", "source": "\\ud800"}]', ":1:2: column source: cannot read"),
    ("nested.json", NESTED, ":1:101: invalid JSON: nested deeper than 100 levels"),
    ("nested.jsonl", '{"order_id": "b1", "trigger": ' + NESTED + "}\n", ":1:130: invalid JSON: nested"),
    ("nested_cell.csv", HEADER + "b1,,,,,,," + NESTED + ",\n", None),  # not JSON: a bare trigger name
    ("nan_trigger.csv", HEADER + "b1,,,,,,,NaN,\n", None),
    ("big_int.json", '[{"order_id": "b1", "price": ' + "9" * 5000 + "}]", None),  # inf: quarantined
    ("huge_field.csv", HEADER + f"b1,,,,,,,{HUGE},\n", None),
    ("bad_utf8.csv", HEADER.encode() + b"b1,AVAX-USD,b\xffuy,,,,,,\n", ":2:14: not UTF-8"),
    ("open_quote.csv", HEADER + 'b1,"AVAX-USD,buy,,,,,,\n', ":2: invalid CSV"),
    ("dir.csv", None, ": cannot read"),
]


@pytest.mark.parametrize(("name", "content", "expected"), ODD_FILES, ids=[name for name, _, _ in ODD_FILES])
def test_odd_files_load_or_exit_2_with_location(
    loaded: Warehouse, tmp_path: Path, name: str, content: str | bytes | None, expected: str | None
) -> None:
    path = tmp_path / name
    if content is None:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    result = invoke_load(loaded, path)
    if expected is None:
        assert_clean_exit(result, 0)
    else:
        assert_clean_exit(result, 2)
        assert f"{path}{expected}" in result.stderr
        assert len(result.stderr.splitlines()) == 1
    assert s1(loaded) == S1


def test_odd_values_load_as_given(loaded: Warehouse, tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    huge.write_text(HEADER + f"b1,,,,,,,,\ns1,,,,,,,{HUGE},\n")
    assert_clean_exit(invoke_load(loaded, huge), 0)
    assert s1(loaded) == S1[:6] + (HUGE,) + S1[7:]
    nested = tmp_path / "nested.csv"
    nested.write_text(f"order_id,trigger\ns1,{NESTED}\n")
    assert_clean_exit(invoke_load(loaded, nested), 0)
    assert s1(loaded) == S1[:6] + (NESTED,) + S1[7:]


def test_database_problems_exit_3_in_one_line(loaded: Warehouse, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    for env in ({"PGHOST": "127.0.0.1", "PGPORT": "1"}, {"PGUSER": "tw_no_such_role", "PGPASSWORD": "wrong"}):
        result = invoke_load(loaded, good, env=env)
        assert_clean_exit(result, 3)
        assert result.stderr.startswith("error: cannot connect") and len(result.stderr.splitlines()) == 1


def test_least_privilege_role_loads_into_existing_table(loaded: Warehouse, tmp_path: Path) -> None:
    """usage on the schema, select, insert and update on the table: no create anywhere."""
    role = f"tw_test_loader_{uuid.uuid4().hex[:8]}"
    names = {"role": sql.Identifier(role), "schema": sql.Identifier(loaded.source_schema)}
    with loaded.connection.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("create role {role} login").format(**names))
        conn.execute(sql.SQL("grant usage on schema {schema} to {role}").format(**names))
        conn.execute(sql.SQL("grant select, insert, update on {schema}.trade_records to {role}").format(**names))
    try:
        update = tmp_path / "update.csv"
        update.write_text(HEADER + "s1,,,,,,,,done\nn1,AVAX-USD,buy,2025-12-02T10:00:00Z,10,1,0,,filled\n")
        result = invoke_load(loaded, update, env={"PGUSER": role})
        assert_clean_exit(result, 0)
        assert "1 new, 1 updated" in result.stdout
        assert s1(loaded) == S1[:-1] + ("done",)
    finally:
        with loaded.connection.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("drop owned by {role}").format(**names))
            conn.execute(sql.SQL("drop role {role}").format(**names))
