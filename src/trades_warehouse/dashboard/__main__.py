"""``python -m trades_warehouse.dashboard run APP [flags]``: ``streamlit run`` with the app's imports warmed.

Streamlit imports an app's modules only when the first browser connects;
pandas and Altair take seconds to import, so the first page would wait for
them. Importing them here, before the server starts, moves that wait to
while the user is still opening the page.
"""

from __future__ import annotations

import sys


def main() -> None:
    # Not the pages module: its cached reads must be created inside Streamlit's runtime.
    import trades_warehouse.dashboard.charts  # noqa: F401  (pandas, altair)
    import trades_warehouse.dashboard.data  # noqa: F401  (psycopg)
    from streamlit.web import cli

    cli.main(args=sys.argv[1:], prog_name="streamlit")


if __name__ == "__main__":
    main()
