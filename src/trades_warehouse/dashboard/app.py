"""Streamlit entry point of the dashboard: ``trades-warehouse dashboard`` runs this file.

It reads the connection like every other command (PG* when PGHOST is set,
else the running embedded server) and the marts of TRADES_TARGET_SCHEMA
(default ``analytics``), draws the sidebar's filters, and hands the pages
their context. A warehouse that is missing, empty or unreachable gets a
message naming the command to run on every page, not a traceback.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import streamlit as st

from trades_warehouse.dashboard import data, pages

PAGES: tuple[tuple[str, str, Callable[[pages.Context], None]], ...] = (
    ("overview", "Overview", pages.overview),
    ("symbols", "Symbols", pages.symbols),
    ("triggers-and-sources", "Triggers and sources", pages.triggers_and_sources),
    ("data-health", "Data health", pages.data_health),
)


def main() -> None:
    # No Material icons anywhere: as a page icon one becomes the favicon,
    # fetched from a font CDN. The emoji favicon is drawn by the browser.
    st.set_page_config(page_title="Trades warehouse", page_icon="📈", layout="wide")
    problem: data.DashboardError | None = None
    where: data.Target | None = None
    status: data.WarehouseStatus | None = None
    try:
        where = pages.target()
        status = pages.status(where)
    except data.DashboardError as exc:
        problem = exc

    context: pages.Context | None = None
    if where is not None and status is not None and status.as_of is not None:
        period, symbol = pages.sidebar_filters(status)
        context = pages.Context(where, status, period, symbol)

    def page(render: Callable[[pages.Context], None]) -> Callable[[], None]:
        def draw() -> None:
            if problem is not None:
                pages.show_problem(problem)
            elif context is None:
                assert where is not None
                pages.show_empty(where)
            else:
                try:
                    render(context)
                except data.DashboardError as exc:
                    pages.show_problem(exc)
                except psycopg.Error as exc:
                    pages.show_query_error(exc)

        draw.__name__ = render.__name__
        return draw

    navigation = st.navigation(
        [
            st.Page(page(render), title=title, url_path=url_path, default=(n == 0))
            for n, (url_path, title, render) in enumerate(PAGES)
        ]
    )
    if where is not None:
        st.sidebar.caption(f"Reading {pages.md_escape(where.describe())}.")
    navigation.run()


main()
