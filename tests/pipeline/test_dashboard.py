"""The live dashboard (`trades-warehouse dashboard`): formatting, data read from the marts
against SQL, the dbt exposures of its pages, clear messages on a missing or empty warehouse,
and the real thing in Debian's headless Chromium driven by Playwright.

The browser tests run one Streamlit server for the module, started with the
command itself, on the demo data plus a few orders whose symbol, trigger and
source are hostile strings. Screenshots and the time from the command to the
first paint go to artifacts/dashboard/ (git-ignored, kept by CI).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import yaml
from psycopg import sql

from conftest import Warehouse, order
from trades_warehouse import database, scheduler
from trades_warehouse.dashboard import APP_PATH, STREAMLIT_FLAGS, data, streamlit_command, streamlit_environment
from trades_warehouse.dashboard import formatting as fmt
from trades_warehouse.paths import project_dir

HOSTILE = "<img src=x onerror=alert(1)>"
# The same string as a symbol, in staging's normal form (upper case, spaces dropped).
HOSTILE_SYMBOL = "<IMGSRC=XONERROR=ALERT(1)>"
# Staging drops every space and invisible character from a symbol (and turns
# "/" into "-"), so no symbol keeps a working tag; this one would still open a
# <b> element, and a Markdown emphasis, if the page rendered it as HTML or Markdown.
TAB_SYMBOL_RAW = "<b>\tbold\u200b</b>**x**"
TAB_SYMBOL = "<B>BOLD<-B>**X**"
MARKDOWN = "**bold** [link](javascript:alert(1))"
ARTIFACTS = project_dir() / "artifacts" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = {
    "Overview": "",
    "Symbols": "symbols",
    "Triggers and sources": "triggers-and-sources",
    "Data health": "data-health",
}


def hostile_rows() -> list[dict[str, object]]:
    day = "2025-12-03T{}:00+00:00"
    return [
        order("dash-hostile-buy", "buy", day.format("10:00"), 1.0, 10.0, symbol=HOSTILE, source=HOSTILE,
              trigger={"trigger": HOSTILE}),
        order("dash-hostile-sell", "sell", day.format("12:00"), 1.0, 12.0, symbol=HOSTILE, source=HOSTILE,
              trigger={"trigger": MARKDOWN}),
        order("dash-tab-buy", "buy", day.format("10:05"), 2.0, 5.0, symbol=TAB_SYMBOL_RAW),
        order("dash-tab-sell", "sell", day.format("12:05"), 2.0, 4.5, symbol=TAB_SYMBOL_RAW),
    ]


@pytest.fixture(scope="module")
def dash(build_warehouse: Callable[..., Warehouse]) -> Warehouse:
    """The demo data plus hostile orders, built, with two scheduled runs on record."""
    from trades_warehouse.demo_data import generate_demo_rows

    warehouse = build_warehouse("dash", [*generate_demo_rows(), *hostile_rows()])
    with warehouse.connection.connect(autocommit=True) as conn:
        scheduler.ensure_history(conn, warehouse.target_schema)
        history = sql.Identifier(scheduler.ops_schema(warehouse.target_schema), "run_history")
        conn.execute(
            sql.SQL(
                "insert into {} (started_at, finished_at, status, exit_code, elapsed_seconds, nodes_passed,"
                " nodes_warned, nodes_failed, failures, freshness_status) values"
                " ('2025-12-04 06:00:00+00', '2025-12-04 06:00:42.5+00', 'success', 0, 42.5, 149, 1, 0, '{{}}', 'warn'),"
                " ('2025-12-04 06:05:00+00', '2025-12-04 06:05:31.25+00', 'failed', 1, 31.25, 140, 1, 2,"
                " array['model.x: error: boom'], 'pass')"
            ).format(history)
        )
    return warehouse


def target_of(warehouse: Warehouse) -> data.Target:
    return data.Target(warehouse.connection, warehouse.target_schema)


# --------------------------------------------------------------------------- pure


def test_money_and_sizes_are_exact() -> None:
    assert fmt.usd(Decimal("-276.530128045")) == "-276.53"
    assert fmt.usd(Decimal("-0.271416")) == "-0.27"
    assert fmt.usd(Decimal("1234.5")) == "+1,234.50"
    assert fmt.usd(Decimal("-0.001")) == "+0.00", "no negative zero"
    assert fmt.usd(Decimal("25.03695"), signed=False) == "25.04"
    assert fmt.usd(None) == fmt.DASH
    # Sizes and prices keep the decimals they carry, and no float noise appears.
    assert fmt.quantity(Decimal("9.40")) == "9.40"
    assert fmt.quantity(Decimal("0.00059492")) == "0.00059492"
    assert fmt.quantity(Decimal("1825484")) == "1,825,484"
    assert fmt.quantity(Decimal("0.1") + Decimal("0.2")) == "0.3"
    assert fmt.quantity(Decimal("0.123456789012345")) == "0.1234567890"
    assert fmt.percent(Decimal("0.36")) == "36.0%"
    assert fmt.percent(Decimal("-0.0041738")) == "-0.4%"
    assert fmt.ratio(Decimal("2.68360491206971377413839")) == "2.68"
    assert fmt.raw_float(float("nan")) == "NaN" and fmt.raw_float(float("inf")) == "Infinity"
    assert fmt.raw_float(0.31) == "0.31" and fmt.raw_float(-12.5) == "-12.5" and fmt.raw_float(50.0) == "50"
    assert fmt.timestamp(datetime(2025, 12, 3, 23, 46, 32, 826847, tzinfo=UTC)) == "2025-12-03 23:46:32 UTC"


def test_markdown_escape_makes_values_inert() -> None:
    pytest.importorskip("streamlit")
    from markdown_it import MarkdownIt

    from trades_warehouse.dashboard.pages import md_escape

    for hostile in (MARKDOWN, HOSTILE, "`code` _x_ ![i](http://example.invalid/x.png) :red[x] $x$"):
        html = MarkdownIt("commonmark").render(md_escape(hostile))
        assert "<a " not in html and "<img" not in html and "<strong>" not in html and "<code>" not in html
        assert "<em>" not in html


def test_the_command_keeps_everything_local(server: database.Connection) -> None:
    command = streamlit_command(8765, "127.0.0.1")
    assert command[:4] == [sys.executable, "-m", "trades_warehouse.dashboard", "run"] and command[4] == str(APP_PATH)
    flags = dict(zip(command[5::2], command[6::2], strict=True))
    assert flags["--browser.gatherUsageStats"] == "false"
    assert flags["--server.headless"] == "true"
    assert flags["--server.address"] == "127.0.0.1" and flags["--server.port"] == "8765"
    assert set(STREAMLIT_FLAGS[::2]) <= set(flags)
    env = streamlit_environment(server, "tw_x", base={"PATH": "/bin", "PGPASSWORD": "from-user"})
    assert env["TRADES_TARGET_SCHEMA"] == "tw_x" and env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
    assert env["PGHOST"] == server.host if server.embedded else env["PGPASSWORD"] == "from-user"
    if server.embedded:
        assert "PGPASSWORD" not in env


def test_streamlit_config_has_no_secrets_and_no_statistics() -> None:
    folder = project_dir() / ".streamlit"
    config = tomllib.loads((folder / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["headless"] is True and config["server"]["address"] == "127.0.0.1"
    assert "connections" not in config
    flat = json.dumps(config).lower()
    assert not re.search(r"password|secret|token|api_key", flat)
    assert not (folder / "secrets.toml").exists()


def test_exposures_list_what_each_page_reads() -> None:
    spec = yaml.safe_load((project_dir() / "models/marts/reporting/_reporting__exposures.yml").read_text())
    exposures = {e["name"]: e for e in spec["exposures"]}
    for page, marts in data.PAGE_MARTS.items():
        exposure = exposures[f"dashboard_{page}"]
        refs = {re.fullmatch(r"ref\('(\w+)'\)", d).group(1) for d in exposure["depends_on"]}  # type: ignore[union-attr]
        assert refs == set(marts), page
        assert exposure["type"] == "dashboard"
    models = {path.stem for path in (project_dir() / "models" / "marts").rglob("*.sql")}
    assert set(data.ALL_MARTS) <= models, "the dashboard reads marts only"


# --------------------------------------------------------------------------- data against SQL


def test_exposures_select_the_pages_lineage(dash: Warehouse) -> None:
    outcome = dash.dbt("ls", "--select", "+exposure:dashboard_data_health", "--resource-type", "model",
                       "--output", "name", "--quiet")
    assert outcome.success, outcome.exception
    listed = {str(line).strip() for line in outcome.results or []}
    assert {"quarantine_samples", "allocation_health", "legacy_pnl_discrepancy", "stg_trading_bot__quarantined_orders",
            "base_trading_bot__orders"} <= listed
    assert "equity_curve" not in listed


def test_headlines_equal_the_marts(dash: Warehouse) -> None:
    where = target_of(dash)
    status = data.warehouse_status(where)
    assert status.as_of is not None and [w.name for w in status.windows] == ["1d", "7d", "30d", "all"]
    assert HOSTILE_SYMBOL in status.symbols and TAB_SYMBOL in status.symbols
    for window in data.FIXED_WINDOWS:
        head = data.headline(where, data.fixed_period(status, window))
        (row,) = dash.query(
            "select realized_pnl_usd, trades, win_rate, profit_factor, sharpe_daily, sortino_daily,"
            " max_drawdown_usd from {marts}.performance_metrics where window_name = %s",
            (window,),
        )
        assert (head.realized_pnl_usd, head.trades, head.win_rate, head.profit_factor, head.sharpe_daily,
                head.sortino_daily, head.max_drawdown_usd) == row
        board = data.leaderboard(where, data.fixed_period(status, window))
        assert sum((r.realized_pnl_usd for r in board), Decimal(0)) == row[0]
        assert [r.rank for r in board] == list(range(1, len(board) + 1))
    # A custom range over the whole history adds up to the `all` window.
    everything = data.custom_period(status, date(2000, 1, 1), date(2100, 1, 1))
    custom = data.headline(where, everything)
    fixed = data.headline(where, data.fixed_period(status, "all"))
    assert (custom.realized_pnl_usd, custom.trades, custom.wins) == (fixed.realized_pnl_usd, fixed.trades, fixed.wins)
    assert custom.sharpe_daily is None, "ratios are defined per fixed window only"
    curve = data.equity_curve(where, everything)
    (start_equity,) = dash.query("select equity_start_usd from {marts}.daily_pnl order by date_day limit 1")[0]
    assert curve[-1].equity_usd == start_equity + fixed.realized_pnl_usd


def test_health_reads_equal_the_marts(dash: Warehouse) -> None:
    where = target_of(dash)
    status = data.warehouse_status(where)
    assert status.as_of is not None
    avax = data.legacy_sells(where, "AVAX-USD", only_exhausted=True)
    assert any(fmt.usd(s.legacy_result_usd) == "-276.53" and fmt.usd(s.fifo_pnl_usd) == "-0.27" for s in avax)
    checks = data.health_checks(where)
    quarantined = {c.category: c.items for c in checks if c.check_name == "quarantined_rows"}
    samples = data.quarantine_samples(where)
    assert {s.reason: s.reason_rows for s in samples} == quarantined
    unmatched = sum(c.items for c in checks if c.check_name == "unmatched_sells")
    assert len({s.order_id for s in data.unmatched_sells(where, status.as_of)}) == unmatched
    history = data.run_history(where)
    assert history.recorded and [r.status for r in history.runs] == ["failed", "success"]
    assert fmt.seconds(history.runs[1].elapsed_seconds) == "42.5 s"
    assert data.run_history(data.Target(dash.connection, "tw_no_such_target")) == data.RunHistory(False, ())
    fresh = data.freshness(where, history)
    assert fresh.last_run_freshness == "pass" and fresh.latest_fill_at is not None


def test_figures_are_the_marts_not_python_sums(dash: Warehouse) -> None:
    """Ratios and totals the pages show come from the marts (or the marts' formulas in SQL), issue 12."""
    where = target_of(dash)
    status = data.warehouse_status(where)
    everything = data.custom_period(status, date(2000, 1, 1), date(2100, 1, 1))
    custom = data.headline(where, everything)
    fixed = data.headline(where, data.fixed_period(status, "all"))
    assert fixed.win_rate is not None and fixed.profit_factor is not None
    assert (custom.win_rate, custom.profit_factor) == (fixed.win_rate, fixed.profit_factor)
    symbol = status.symbols[0]
    custom_symbol = data.headline(where, everything, symbol)
    assert custom_symbol.win_rate == data.headline(where, data.fixed_period(status, "all"), symbol).win_rate
    board = {r.symbol: r for r in data.leaderboard(where, data.fixed_period(status, "all"))}
    assert all(r.win_rate == board[r.symbol].win_rate for r in data.leaderboard(where, everything))
    rates = dict(dash.query("select source, win_rate from {marts}.source_performance"))
    sources = data.sources(where)
    assert sources and {s.source: s.win_rate for s in sources} == rates
    for name in status.symbols:
        lots = data.open_lots(where, name)
        position = data.open_position(where, name)
        assert (position.lots, position.cost_basis_usd) == (
            len(lots), sum((lot.open_cost_basis_usd for lot in lots), Decimal(0))
        )
    checks = data.health_checks(where)
    for check in {c.check_name for c in checks}:
        rows = [c for c in checks if c.check_name == check]
        assert {c.check_items for c in rows} == {sum(c.items for c in rows)}
    # Row counts of the detail tables are counted in SQL before the limit, not len() of the shown rows.
    assert status.as_of is not None
    unmatched = data.unmatched_sells(where, status.as_of, limit=1)
    total = next((c.check_items for c in checks if c.check_name == "unmatched_sells"), 0)
    assert (unmatched[0].rows_matching if unmatched else 0) == total
    ((busiest, matching),) = dash.query(
        "select symbol, count(*) from {marts}.fct_fills group by symbol order by count(*) desc, symbol limit 1"
    )
    shown = data.fills(where, busiest, everything, limit=2)
    assert matching > 2 and len(shown) == 2 and {f.rows_matching for f in shown} == {matching}


# --------------------------------------------------------------------------- missing or empty warehouse


def _app_messages(monkeypatch: pytest.MonkeyPatch, target_schema: str) -> tuple[list[str], Any]:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("TRADES_TARGET_SCHEMA", target_schema)
    app = AppTest.from_file(str(APP_PATH), default_timeout=60).run()
    assert not app.exception, [e.value for e in app.exception]
    return [str(m.value) for m in [*app.error, *app.warning, *app.info]], app


def test_missing_marts_name_the_command(server: database.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    messages, _ = _app_messages(monkeypatch, f"tw_test_dash_missing_{uuid.uuid4().hex[:6]}")
    assert len(messages) == 1
    assert "trades-warehouse build" in messages[0] and "performance" in messages[0]


def test_an_empty_warehouse_names_the_command(dash: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """The marts with their columns and no rows, as after a build on an empty source."""
    empty = f"tw_test_dash_empty_{uuid.uuid4().hex[:6]}"
    with dash.connection.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(f"{empty}_marts")))
        for mart in data.ALL_MARTS:
            conn.execute(
                sql.SQL("create table {} as select * from {} with no data").format(
                    sql.Identifier(f"{empty}_marts", mart), sql.Identifier(dash.marts, mart)
                )
            )
    try:
        messages, app = _app_messages(monkeypatch, empty)
        assert len(messages) == 1
        assert "no fills" in messages[0] and "trades-warehouse load" in messages[0]
        assert "trades-warehouse demo" in messages[0]
        assert not app.metric
    finally:
        with dash.connection.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(f"{empty}_marts")))


# --------------------------------------------------------------------------- in a real browser


@dataclass
class Browser:
    page: Any
    dialogs: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        # Debian's chromium through executable_path: Playwright downloads no browser of its own.
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            seen = Browser(page)
            page.on("dialog", lambda dialog: (seen.dialogs.append(dialog.message), dialog.dismiss()))

            def check_request(request: Any) -> None:
                parts = urlsplit(request.url)
                if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in ("127.0.0.1", "localhost"):
                    seen.outside_requests.append(request.url)

            page.on("request", check_request)
            yield seen
        finally:
            chromium.close()


@dataclass
class Dashboard:
    url: str
    process: subprocess.Popen[bytes]
    started: float  # time.monotonic() when the command was started
    ready_seconds: float  # until the server answered its health check
    log: Path
    timings: dict[str, float] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def dashboard(dash: Warehouse, browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """`trades-warehouse dashboard` on the hostile demo warehouse, as a user starts it.

    Started once the browser is up, so that the time to the first paint is the
    command's and the page's, not Chromium's start."""
    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard") / "streamlit.log"
    started = time.monotonic()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "trades_warehouse", "dashboard", "--port", str(port), "--schema", dash.target_schema],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one group: the command and the Streamlit it runs
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = started + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the dashboard did not answer within 90 s"
            time.sleep(0.2)
        yield Dashboard(url, process, started, time.monotonic() - started, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def settle(page: Any, charts: int = 0) -> None:
    """Wait until the script run is over and ``charts`` Vega charts are drawn."""
    page.wait_for_selector('[data-testid="stMain"] h1')
    page.wait_for_function(
        """(charts) => {
            if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
            if (document.querySelector('[data-testid="stSkeleton"]')) return false;
            const drawn = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].filter(
                (chart) => [...chart.querySelectorAll('canvas, svg.marks')].some(
                    (surface) => surface.getBoundingClientRect().width > 100));
            return drawn.length >= charts;
        }""",
        arg=charts,
        timeout=45_000,
    )


def assert_no_error(page: Any) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator('[data-testid="stException"]').first.inner_text()
    errors = page.locator('[data-testid="stAlertContentError"], [data-testid="stAlertContentWarning"]')
    assert errors.count() == 0, errors.first.inner_text()


def metric(page: Any, label: str, expected: str | None = None) -> str:
    """The value shown under ``label``; with ``expected``, waits (up to 15 s) for a rerun to show it."""
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label)
    )
    deadline = time.monotonic() + 15
    while True:
        value = str(box.first.locator('[data-testid="stMetricValue"]').inner_text()).strip()
        if expected is None or value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def shoot(page: Any, name: str) -> None:
    """A screenshot of the whole page (Streamlit scrolls inside its main block, so the viewport grows)."""
    height = int(page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], [data-testid=\"stMainBlockContainer\"]')]"
        ".map((e) => e.scrollHeight), 1000)"
    ))
    page.set_viewport_size({"width": 1400, "height": min(height + 40, 12_000)})
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


def go_to(page: Any, title: str) -> None:
    page.locator('[data-testid="stSidebarNavLink"]', has_text=title).click()
    page.wait_for_url(re.compile(rf"/{PAGES[title]}(\?.*)?$"))
    page.wait_for_selector(f'[data-testid="stMain"] h1:has-text("{title}")')


def test_first_paint(dashboard: Dashboard, browser: Browser, dash: Warehouse) -> None:
    """From the command to the overview's headline on screen; written to artifacts/dashboard/timing.json."""
    page = browser.page
    opened = time.monotonic()
    page.goto(dashboard.url + "/")
    page.wait_for_selector('[data-testid="stMetricValue"]')
    first_paint = time.monotonic() - dashboard.started
    page_load = time.monotonic() - opened
    settle(page, charts=2)
    charts_drawn = time.monotonic() - dashboard.started
    dashboard.timings.update(
        server_ready_seconds=round(dashboard.ready_seconds, 2),
        first_paint_seconds=round(first_paint, 2),
        page_open_to_first_paint_seconds=round(page_load, 2),
        charts_drawn_seconds=round(charts_drawn, 2),
    )
    (ARTIFACTS / "timing.json").write_text(json.dumps(dashboard.timings, indent=2) + "\n")
    print(f"dashboard timing: {dashboard.timings}")
    assert first_paint < 60


def test_every_page_in_chromium(dashboard: Dashboard, browser: Browser, dash: Warehouse) -> None:
    page = browser.page
    page.goto(dashboard.url + "/")
    settle(page, charts=2)

    # Overview: the headline of the default window (30d) is the mart's, to the cent.
    (row,) = dash.query(
        "select realized_pnl_usd, trades, win_rate, profit_factor, sharpe_daily, sortino_daily, max_drawdown_usd,"
        " max_drawdown_pct, window_end_at from {marts}.performance_metrics where window_name = '30d'"
    )
    assert metric(page, "Realized P&L (USD)") == fmt.usd(row[0])
    assert metric(page, "Trades") == fmt.count(row[1])
    assert metric(page, "Win rate") == fmt.percent(row[2])
    assert metric(page, "Profit factor") == fmt.ratio(row[3])
    assert metric(page, "Sharpe (daily)") == fmt.ratio(row[4])
    assert metric(page, "Sortino (daily)") == fmt.ratio(row[5])
    assert metric(page, "Max drawdown (USD)") == fmt.usd(row[6])
    assert metric(page, "Max drawdown (%)") == fmt.percent(row[7])
    assert fmt.timestamp(row[8]) in page.locator('[data-testid="stMain"]').inner_text()
    assert_no_error(page)
    shoot(page, "1-overview")

    # Symbols: the leaderboard's leader, then a drill-down chosen in the sidebar.
    go_to(page, "Symbols")
    settle(page)
    (leader, leader_pnl) = dash.query(
        "select symbol, realized_pnl_usd from {marts}.symbol_performance where window_name = '30d'"
        " order by realized_pnl_usd desc, symbol limit 1"
    )[0]
    board = page.locator('[data-testid="stDataFrame"]').first
    board.locator('[role="gridcell"]', has_text=fmt.usd(leader_pnl)).first.wait_for(state="attached")
    assert leader in (board.text_content() or "")
    # A click on the leader's row (the grid is a canvas: its row marker, at the row's height) drills down.
    box = board.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)
    page.wait_for_url(re.compile(r"symbol=" + re.escape(quote(leader, safe=""))))
    page.get_by_text("Drill-down").wait_for()
    page.locator('[data-testid="stMain"] [data-testid="stText"]', has_text=leader).wait_for()
    symbol_box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Symbol")
    symbol_box.click()
    page.keyboard.type("AVAX-USD")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"symbol=AVAX-USD"))
    page.locator('[data-testid="stMain"] [data-testid="stText"]', has_text="AVAX-USD").wait_for()
    settle(page, charts=2)
    (avax_pnl, avax_trades) = dash.query(
        "select realized_pnl_usd, trades from {marts}.symbol_performance where window_name = '30d' and symbol = 'AVAX-USD'"
    )[0]
    assert metric(page, "Realized P&L (USD)", fmt.usd(avax_pnl)) == fmt.usd(avax_pnl)
    assert metric(page, "Trades") == fmt.count(avax_trades)
    for tab in ("FIFO allocations", "Open lots", "Fills"):
        page.locator('[data-testid="stTab"]', has_text=tab).click()
    assert page.locator('[data-testid="stTabPanel"] [data-testid="stDataFrame"]').count() >= 1
    assert_no_error(page)
    shoot(page, "2-symbols-avax")

    # Triggers and sources: charts, inferred triggers marked.
    go_to(page, "Triggers and sources")
    settle(page, charts=3)
    main = page.locator('[data-testid="stMain"]')
    main.locator('[role="gridcell"]', has_text="inferred").first.wait_for(state="attached")
    assert_no_error(page)
    shoot(page, "3-triggers-and-sources")

    # Data health, for AVAX-USD (the sidebar's symbol is kept): the incident's sell.
    go_to(page, "Data health")
    settle(page)
    assert "AVAX-USD" in page.url
    legacy = main.locator('[data-testid="stDataFrame"]').filter(has_text="Sell time (UTC)")
    legacy.locator('[role="row"]', has_text="-276.53").filter(has_text="-0.27").first.wait_for(state="attached")
    quarantined = dash.query("select count(*) from {staging}.stg_trading_bot__quarantined_orders")[0][0]
    assert metric(page, "Quarantined rows") == fmt.count(quarantined)
    main.locator('[role="gridcell"]', has_text="42.5 s").first.wait_for(state="attached")
    main.locator('[role="gridcell"]', has_text="failed").first.wait_for(state="attached")
    assert metric(page, "dbt source freshness") == "pass"
    assert_no_error(page)
    shoot(page, "4-data-health-avax")

    assert browser.dialogs == []
    assert browser.outside_requests == [], "the dashboard fetched something from outside this machine"


def test_hostile_strings_stay_text(dashboard: Dashboard, browser: Browser) -> None:
    page = browser.page
    for symbol in (HOSTILE_SYMBOL, TAB_SYMBOL):
        page.goto(f"{dashboard.url}/symbols?symbol={quote(symbol, safe='')}")
        page.get_by_text("Drill-down").wait_for()
        settle(page, charts=2)
        shown = page.locator('[data-testid="stMain"] [data-testid="stText"]')
        assert re.sub(r"\s+", " ", shown.first.inner_text()) == re.sub(r"\s+", " ", symbol)
        # The sidebar's symbol box holds it as the value of a text input.
        chosen = page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Symbol").input_value()
        assert re.sub(r"\s+", " ", chosen) == re.sub(r"\s+", " ", symbol)
    shoot(page, "5-hostile-symbol")

    page.goto(f"{dashboard.url}/triggers-and-sources")
    settle(page, charts=3)
    main = page.locator('[data-testid="stMain"]')
    for text in (HOSTILE, MARKDOWN):
        main.locator('[role="gridcell"]', has_text=text).first.wait_for(state="attached")
    shoot(page, "6-hostile-triggers")

    assert page.locator("img[onerror], img[src='x'], img[src='X']").count() == 0
    assert page.locator('[data-testid="stMain"] b, [data-testid="stMain"] strong', has_text="BOLD").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert browser.dialogs == [], "a raw string ran as script"
    assert_no_error(page)
