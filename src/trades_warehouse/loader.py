"""Load order rows into the bot's ``trade_records`` table with COPY, idempotent on order_id.

A file is checked whole before anything is written: a malformed file (bad
JSON or CSV, unknown columns, values that do not parse as their column's type)
is rejected with the file, line and column, and nothing of it is loaded.
Values that parse but cannot be trusted (a negative size, an unknown side) are
loaded as they are: staging puts them in quarantine with a reason.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from trades_warehouse.database import Connection

# The bot's table, column by column, as the bot creates it.
COLUMN_TYPES: dict[str, str] = {
    "order_id": "varchar",
    "parent_id": "varchar",
    "parent_ids": "varchar[]",
    "symbol": "varchar",
    "side": "varchar",
    "order_time": "timestamptz",
    "price": "double precision",
    "size": "double precision",
    "total_fees_usd": "double precision",
    "trigger": "jsonb",
    "order_type": "varchar",
    "status": "varchar",
    "source": "varchar",
    "pnl_usd": "double precision",
    "realized_profit": "double precision",
    "cost_basis_usd": "double precision",
    "sale_proceeds_usd": "double precision",
    "net_sale_proceeds_usd": "double precision",
    "remaining_size": "double precision",
    "ingest_via": "varchar",
    "last_reconciled_at": "timestamptz",
    "last_reconciled_via": "varchar",
}
COLUMNS: tuple[str, ...] = tuple(COLUMN_TYPES)
REQUIRED_COLUMNS = ("order_id",)
FLOAT_COLUMNS = {c for c, t in COLUMN_TYPES.items() if t == "double precision"}
TIME_COLUMNS = {c for c, t in COLUMN_TYPES.items() if t == "timestamptz"}

Row = dict[str, object]


class LoadError(ValueError):
    """A file cannot be loaded; the message names the file, line and column."""


@dataclass(frozen=True)
class LoadedFile:
    """A checked file: its typed rows and the columns it actually carries."""

    rows: list[Row]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class LoadResult:
    rows_in_files: int
    inserted: int
    updated: int


def _parse_float(value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        # float() accepts 'nan' and 'inf' on purpose: such rows reach quarantine.
        return float(value.strip())
    raise ValueError(f"expected a number, got {type(value).__name__}")


def _parse_time(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    else:
        raise ValueError(f"expected an ISO-8601 time, got {type(value).__name__}")
    # The bot writes UTC; a time without an offset is read as UTC, not local time.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _parse_trigger(value: object) -> str | None:
    """JSON text for the jsonb column; a CSV cell that is not JSON is a bare trigger name."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            json.loads(value)
            return value
        except json.JSONDecodeError:
            return json.dumps(value)
    return json.dumps(value)


def _parse_array(value: object) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{") and text.endswith("}"):
            inner = text[1:-1]
            return [part.strip().strip('"') for part in inner.split(",")] if inner else []
        parsed = json.loads(text)
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    raise ValueError("expected a JSON array or a PostgreSQL array literal")


def _parse_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise ValueError("expected text, got a JSON structure")
    return str(value)


def normalise_row(raw: Mapping[str, object], where: str) -> Row:
    """Typed row for COPY; raises LoadError naming ``where`` and the column."""
    unknown = sorted(set(raw) - set(COLUMNS))
    if unknown:
        raise LoadError(f"{where}: unknown column(s) {', '.join(unknown)}")
    row: Row = {}
    for column in COLUMNS:
        value = raw.get(column)
        try:
            if column in FLOAT_COLUMNS:
                row[column] = _parse_float(value)
            elif column in TIME_COLUMNS:
                row[column] = _parse_time(value)
            elif column == "trigger":
                row[column] = _parse_trigger(value)
            elif column == "parent_ids":
                row[column] = _parse_array(value)
            else:
                text = _parse_text(value)
                row[column] = None if text == "" and column != "order_id" else text
        except (ValueError, TypeError, json.JSONDecodeError) as exc:
            raise LoadError(f"{where}: column {column}: cannot read {value!r}: {exc}") from exc
    if not row["order_id"]:
        raise LoadError(f"{where}: order_id is missing")
    return row


def read_file(path: Path) -> LoadedFile:
    """All rows of a .csv, .json (array of objects) or .jsonl file, or LoadError."""
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"{path}: cannot read: {exc}") from exc
    records: list[tuple[str, Mapping[str, object]]] = []
    if suffix == ".csv":
        # newline='' keeps quoted multi-line fields (a pretty-printed JSON
        # trigger) whole, and line numbers true.
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise LoadError(f"{path}: header lacks column(s) {', '.join(missing)}")
        for record in reader:
            if None in record:
                raise LoadError(f"{path}:{reader.line_num}: more fields than the header")
            records.append((f"{path}:{reader.line_num}", record))
    elif suffix in (".json", ".jsonl", ".ndjson"):
        try:
            if suffix == ".json":
                data = json.loads(text)
                if not isinstance(data, list):
                    raise LoadError(f"{path}: expected a JSON array of objects")
                items = [(f"{path}: item {i + 1}", item) for i, item in enumerate(data)]
            else:
                items = [
                    (f"{path}:{n}", json.loads(line))
                    for n, line in enumerate(text.splitlines(), start=1)
                    if line.strip()
                ]
        except json.JSONDecodeError as exc:
            raise LoadError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
        for where, item in items:
            if not isinstance(item, dict):
                raise LoadError(f"{where}: expected an object")
            records.append((where, item))
    else:
        raise LoadError(f"{path}: unsupported file type {suffix or '(none)'}: use .csv, .json or .jsonl")
    rows = [normalise_row(record, where) for where, record in records]
    _reject_conflicting_ids(rows, path)
    present = {column for _, record in records for column in record}
    return LoadedFile(rows, tuple(c for c in COLUMNS if c in present))


def _reject_conflicting_ids(rows: Sequence[Row], path: Path) -> None:
    seen: dict[object, Row] = {}
    for row in rows:
        previous = seen.setdefault(row["order_id"], row)
        # Compared as COPY writes them, so that two NaNs are the same value.
        if previous is not row and [_copy_value(previous, c) for c in COLUMNS] != [
            _copy_value(row, c) for c in COLUMNS
        ]:
            raise LoadError(f"{path}: order_id {row['order_id']} appears twice with different values")


def _copy_value(row: Row, column: str) -> object:
    value = row[column]
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


def ensure_source_table(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> None:
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in COLUMN_TYPES.items()
    )
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    conn.execute(
        sql.SQL("create table if not exists {}.trade_records ({}, primary key (order_id))").format(
            sql.Identifier(schema), columns
        )
    )


def load_rows(
    connection: Connection,
    schema: str,
    rows: Iterable[Row],
    *,
    replace: bool = False,
    columns: Sequence[str] = COLUMNS,
) -> LoadResult:
    """Upsert rows in one transaction: COPY into a temporary table, then insert on conflict update.

    An existing order is updated only in ``columns`` (those its file carries),
    so a file of order_id and status does not erase prices and sizes.
    """
    unique = {row["order_id"]: row for row in rows}
    with connection.connect() as conn:
        ensure_source_table(conn, schema)
        target = sql.Identifier(schema, "trade_records")
        if replace:
            conn.execute(sql.SQL("truncate {}").format(target))
        conn.execute(
            sql.SQL("create temporary table incoming (like {}) on commit drop").format(target)
        )
        column_list = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
        with conn.cursor() as cur:
            with cur.copy(sql.SQL("copy incoming ({}) from stdin").format(column_list)) as copy:
                for row in unique.values():
                    copy.write_row([_copy_value(row, c) for c in COLUMNS])
            updates = sql.SQL(", ").join(
                sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in columns if c != "order_id"
            ) or sql.SQL("order_id = excluded.order_id")
            cur.execute(
                sql.SQL(
                    "insert into {} ({cols}) select {cols} from incoming "
                    "on conflict (order_id) do update set {updates} returning (xmax = 0)"
                ).format(target, cols=column_list, updates=updates)
            )
            flags = [bool(r[0]) for r in cur.fetchall()]
        conn.commit()
    inserted = sum(flags)
    return LoadResult(rows_in_files=len(unique), inserted=inserted, updated=len(flags) - inserted)
