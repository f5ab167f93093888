"""Load order rows into the bot's ``trade_records`` table with COPY, idempotent on order_id.

A file is checked whole before anything is written: a malformed file (bad
JSON or CSV, a row cut short, unknown columns, values that do not parse as
their column's type or that PostgreSQL cannot store) is rejected with the
file, line and column, and nothing of it is loaded. Values that parse but
cannot be trusted (a negative size, an unknown side) are loaded as they are:
staging puts them in quarantine with a reason.

Missing is not null. A column a row leaves out (an absent JSON key, an empty
CSV cell or JSON string) is "not given": an order already in the table keeps
its value there, a new order gets NULL. Only an explicit null erases a value:
JSON ``null``, or ``NULL`` (any case) in a CSV cell. A new order must give at
least ``NEW_ORDER_COLUMNS``, else its file is rejected.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from trades_warehouse.database import ConnectionSettings

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
# What an order needs to be a row at all (a value or an explicit null).
NEW_ORDER_COLUMNS = ("order_id", "symbol", "side")
FLOAT_COLUMNS = {c for c, t in COLUMN_TYPES.items() if t == "double precision"}
TIME_COLUMNS = {c for c, t in COLUMN_TYPES.items() if t == "timestamptz"}
CSV_NULL = "NULL"
# Far below Python's recursion limit, far above any real trigger.
MAX_JSON_DEPTH = 100
# The bit of each column in ``incoming.given``: which cells a row gives.
GIVEN_BITS = {column: 1 << n for n, column in enumerate(COLUMNS)}
ALL_GIVEN = sum(GIVEN_BITS.values())

# A large value (a long trigger) is a value, not a CSV error; a cut-off quote
# still fails, as the reader is strict and rows must match the header.
csv.field_size_limit(2**31 - 1)

# Only the columns a file gives; None is an explicit null.
Row = dict[str, object]


class LoadError(ValueError):
    """A file cannot be loaded; the message names the file, line and column."""


@dataclass(frozen=True)
class LoadedFile:
    """A checked file: its typed rows and where each one is in the file."""

    rows: list[Row]
    where: list[str]


@dataclass(frozen=True)
class LoadResult:
    rows_in_files: int
    inserted: int
    updated: int


def _json_int(text: str) -> int | float:
    # Python refuses to turn over 4,300 digits into an int; as a float it is infinite.
    return int(text) if len(text) <= 4000 else float(text)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_int=_json_int)  # NaN and Infinity pass: quarantine says why
_STRICT_DECODER = json.JSONDecoder(parse_int=_json_int, parse_constant=_refuse_constant)
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _skip_space(text: str, pos: int) -> int:
    match = _JSON_SPACE.match(text, pos)
    return match.end() if match else pos


def _check_depth(text: str) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH before the recursive parser sees it."""
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        bracket = token.group()[0]
        if bracket in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", text, token.start())
        elif bracket in "]}":
            depth -= 1


def _strict_json(text: str) -> object:
    _check_depth(text)
    return _STRICT_DECODER.decode(text)


def _check_text(value: object) -> None:
    """ValueError for text PostgreSQL cannot store: a NUL character or a lone surrogate."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValueError("a NUL character, which PostgreSQL cannot store")
            item.encode("utf-8")  # UnicodeEncodeError on a lone surrogate ("\ud800" in JSON)
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _parse_float(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        # float() accepts 'nan' and 'inf' on purpose: such rows reach quarantine.
        return float(value.strip())
    raise ValueError(f"expected a number, got {type(value).__name__}")


def _parse_time(value: object) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    else:
        raise ValueError(f"expected an ISO-8601 time, got {type(value).__name__}")
    # The bot writes UTC; a time without an offset is read as UTC, not local time.
    return (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _parse_trigger(value: object) -> str:
    """JSON text for the jsonb column; a CSV cell that is not JSON is a bare trigger name."""
    if isinstance(value, str):
        try:
            value = _strict_json(value)
        except ValueError:
            return json.dumps(value)
        _check_text(value)
    return json.dumps(value, allow_nan=False)


def _parse_array(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{") and text.endswith("}"):
            inner = text[1:-1]
            return [part.strip().strip('"') for part in inner.split(",")] if inner else []
        parsed = _strict_json(text)
        if isinstance(parsed, list):
            _check_text(parsed)
            return [str(v) for v in parsed]
    raise ValueError("expected a JSON array or a PostgreSQL array literal")


def _parse_text(value: object) -> str:
    if isinstance(value, (dict, list)):
        raise ValueError("expected text, got a JSON structure")
    return str(value)


def _parser(column: str) -> Callable[[object], object]:
    if column in FLOAT_COLUMNS:
        return _parse_float
    if column in TIME_COLUMNS:
        return _parse_time
    return {"trigger": _parse_trigger, "parent_ids": _parse_array}.get(column, _parse_text)


PARSERS = {column: _parser(column) for column in COLUMNS}


def _shorten(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def normalise_row(raw: Mapping[str, object], where: str) -> Row:
    """Typed row for COPY, of the columns ``raw`` gives; raises LoadError naming ``where`` and the column.

    A key that is absent or holds an empty string is not given; None is an explicit null.
    """
    unknown = sorted(set(raw) - set(COLUMNS))
    if unknown:
        raise LoadError(f"{where}: unknown column(s) {', '.join(map(_shorten, unknown))}")
    row: Row = {}
    for column, value in raw.items():
        if isinstance(value, str) and value == "":
            continue
        try:
            _check_text(value)
            row[column] = None if value is None else PARSERS[column](value)
        except (ValueError, TypeError, OverflowError) as exc:
            raise LoadError(f"{where}: column {column}: cannot read {_shorten(value)}: {exc}") from exc
    if row.get("order_id") is None:
        raise LoadError(f"{where}: column order_id: missing")
    return row


def _at(path: Path, text: str, offset: int) -> str:
    """``path:line:column`` of a character offset, both counted from 1."""
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return f"{path}:{line}:{column}"


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark is not part of the first column's name
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8", "replace")
        raise LoadError(f"{_at(path, before, len(before))}: not UTF-8: {exc.reason}") from exc
    nul = text.find("\x00")
    if nul >= 0:
        raise LoadError(f"{_at(path, text, nul)}: a NUL character, which PostgreSQL cannot store")
    return text


def _csv_records(path: Path, text: str) -> list[tuple[str, Mapping[str, object]]]:
    if not text.strip():
        raise LoadError(f"{path}:1:1: empty file: a CSV needs a header line")
    if not text.endswith(("\n", "\r")):
        raise LoadError(
            f"{_at(path, text, len(text))}: the file ends inside a line, as a file cut short does; "
            "a complete CSV ends with a line break"
        )
    # newline='' keeps quoted multi-line fields (a pretty-printed JSON
    # trigger) whole, and line numbers true.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[str, Mapping[str, object]]] = []
    start = 1  # the line where the record being read starts
    try:
        header = next(reader)
        unknown = sorted(set(header) - set(COLUMNS))
        twice = sorted({c for c in header if header.count(c) > 1})
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if unknown or twice or missing:
            raise LoadError(
                f"{path}:1: header: unknown column(s) {', '.join(map(_shorten, unknown)) or '-'}, "
                f"repeated {', '.join(twice) or '-'}, missing {', '.join(missing) or '-'}"
            )
        start = reader.line_num + 1
        for fields in reader:
            where, start = f"{path}:{start}", reader.line_num + 1
            if not fields:
                continue  # a blank line
            if len(fields) < len(header):
                raise LoadError(
                    f"{where}: column {header[len(fields)]}: missing: the row has {len(fields)} "
                    f"of the header's {len(header)} fields (cut short?)"
                )
            if len(fields) > len(header):
                raise LoadError(f"{where}: more fields ({len(fields)}) than the header ({len(header)})")
            cells = {c: None if v.strip().upper() == CSV_NULL else v for c, v in zip(header, fields)}
            records.append((where, cells))
    except csv.Error as exc:
        raise LoadError(f"{path}:{start}: invalid CSV: {exc}") from exc
    return records


def _json_array(text: str) -> list[tuple[int, object]]:
    """The items of a JSON array with the offset where each starts."""
    _check_depth(text)
    pos = _skip_space(text, 0)
    if not text.startswith("[", pos):
        raise json.JSONDecodeError("expected a JSON array of objects", text, pos)
    items: list[tuple[int, object]] = []
    pos = _skip_space(text, pos + 1)
    closed = text.startswith("]", pos)
    while not closed:
        item, end = _DECODER.raw_decode(text, pos)
        items.append((pos, item))
        pos = _skip_space(text, end)
        closed = text.startswith("]", pos)
        if not closed:
            if not text.startswith(",", pos):
                raise json.JSONDecodeError("expected ',' or ']'", text, pos)
            pos = _skip_space(text, pos + 1)
    end = _skip_space(text, pos + 1)
    if end != len(text):
        raise json.JSONDecodeError("extra data after the array", text, end)
    return items


def _json_records(path: Path, text: str) -> list[tuple[str, object]]:
    if path.suffix.lower() == ".json":
        try:
            return [(_at(path, text, pos), item) for pos, item in _json_array(text)]
        except json.JSONDecodeError as exc:
            raise LoadError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    records: list[tuple[str, object]] = []
    # Lines end at "\n" only: JSON strings may hold other line separators (U+2028).
    for n, line in enumerate(text.split("\n"), start=1):
        if line.strip(" \t\r"):
            try:
                _check_depth(line)
                records.append((f"{path}:{n}", _DECODER.decode(line)))
            except json.JSONDecodeError as exc:
                raise LoadError(f"{path}:{n}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    return records


def read_file(path: Path) -> LoadedFile:
    """All rows of a .csv, .json (array of objects) or .jsonl file, or LoadError."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json", ".jsonl", ".ndjson"):
        raise LoadError(f"{path}: unsupported file type {suffix or '(none)'}: use .csv, .json or .jsonl")
    text = _read_text(path)
    records = _csv_records(path, text) if suffix == ".csv" else _json_records(path, text)
    rows: list[Row] = []
    for where, record in records:
        if not isinstance(record, dict):
            raise LoadError(f"{where}: expected an object, got {type(record).__name__}")
        rows.append(normalise_row(record, where))
    locations = [where for where, _ in records]
    _reject_conflicting_ids(rows, locations)
    return LoadedFile(rows, locations)


def _reject_conflicting_ids(rows: Sequence[Row], where: Sequence[str]) -> None:
    first: dict[object, int] = {}
    for n, row in enumerate(rows):
        m = first.setdefault(row["order_id"], n)
        # Compared as COPY writes them, so that two NaNs are the same value.
        if m != n and _as_copied(rows[m]) != _as_copied(row):
            raise LoadError(
                f"{where[n]}: order_id {_shorten(row['order_id'])} is also at {where[m]}, with other values"
            )


def _copy_value(row: Row, column: str) -> object:
    value = row.get(column)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


def _as_copied(row: Row) -> dict[str, object]:
    return {column: _copy_value(row, column) for column in row}


def _given(row: Row) -> int:
    return ALL_GIVEN if len(row) == len(COLUMNS) else sum(GIVEN_BITS[c] for c in row)


def ensure_source_table(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> None:
    """Create the schema and table when missing, and only then: loading needs no CREATE right."""
    exists = "select 1 from pg_catalog.pg_tables where schemaname = %s and tablename = 'trade_records'"
    if conn.execute(exists, (schema,)).fetchone():
        return
    if not conn.execute("select 1 from pg_catalog.pg_namespace where nspname = %s", (schema,)).fetchone():
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in COLUMN_TYPES.items()
    )
    conn.execute(
        sql.SQL("create table if not exists {}.trade_records ({}, primary key (order_id))").format(
            sql.Identifier(schema), columns
        )
    )


def _reject_incomplete_new_orders(
    conn: psycopg.Connection[tuple[object, ...]], target: sql.Identifier, rows: Iterable[tuple[Row, str]]
) -> None:
    incomplete = {
        str(row["order_id"]): (row, where)
        for row, where in rows
        if len(row) < len(COLUMNS) and not set(NEW_ORDER_COLUMNS) <= row.keys()
    }
    if not incomplete:
        return
    query = sql.SQL("select order_id from {} where order_id = any(%s)").format(target)
    existing = {order_id for (order_id,) in conn.execute(query, (list(incomplete),))}
    for order_id, (row, where) in incomplete.items():
        if order_id not in existing:
            lacking = next(c for c in NEW_ORDER_COLUMNS if c not in row)
            raise LoadError(
                f"{where}: column {lacking}: missing, and order {_shorten(order_id)} is new: a new order "
                f"needs {', '.join(NEW_ORDER_COLUMNS)} ({CSV_NULL} or null when unknown)"
            )


def _upsert(target: sql.Identifier) -> sql.Composed:
    """Insert incoming rows; on a known order_id set each cell the row gives and keep the others."""
    kept = [c for c in COLUMNS if c != "order_id"]
    merged = (
        sql.SQL("case when i.given & {bit} <> 0 then i.{c} else t.{c} end").format(
            bit=sql.Literal(GIVEN_BITS[c]), c=sql.Identifier(c)
        )
        for c in kept
    )
    return sql.SQL(
        "insert into {target} as t ({columns}) select {columns} from incoming"
        " on conflict (order_id) do update set ({kept}) ="
        " (select {merged} from incoming as i where i.order_id = excluded.order_id)"
        " returning (xmax = 0)"
    ).format(
        target=target,
        columns=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
        kept=sql.SQL(", ").join(map(sql.Identifier, kept)),
        merged=sql.SQL(", ").join(merged),
    )


def load_rows(
    connection: ConnectionSettings,
    schema: str,
    rows: Iterable[Row],
    *,
    replace: bool = False,
    where: Sequence[str] | None = None,
) -> LoadResult:
    """Upsert rows in one transaction: COPY into a temporary table, then insert on conflict update.

    An existing order is updated only in the cells its row gives (its keys),
    so a file of order_id and status, or a CSV row with an empty cell, does not
    erase prices and sizes. ``where`` locates each row for messages; a new
    order lacking a NEW_ORDER_COLUMNS key raises LoadError and loads nothing.
    """
    rows = list(rows)
    locations = where or [f"row {n + 1}" for n in range(len(rows))]
    unique = {row["order_id"]: (row, at) for row, at in zip(rows, locations)}
    with connection.connect() as conn:
        ensure_source_table(conn, schema)
        target = sql.Identifier(schema, "trade_records")
        if replace:
            conn.execute(sql.SQL("truncate {}").format(target))
        _reject_incomplete_new_orders(conn, target, unique.values())
        conn.execute(
            sql.SQL("create temporary table incoming (like {}, given bigint not null) on commit drop").format(target)
        )
        column_list = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
        with conn.cursor() as cur:
            with cur.copy(sql.SQL("copy incoming ({}, given) from stdin").format(column_list)) as copy:
                for row, _ in unique.values():
                    copy.write_row([_copy_value(row, c) for c in COLUMNS] + [_given(row)])
            if not replace:  # each conflict looks its row up in incoming
                cur.execute("alter table incoming add primary key (order_id)")
            cur.execute(_upsert(target))
            flags = [bool(r[0]) for r in cur.fetchall()]
        conn.commit()
    inserted = sum(flags)
    return LoadResult(rows_in_files=len(unique), inserted=inserted, updated=len(flags) - inserted)
