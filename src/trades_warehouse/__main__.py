"""`python -m trades_warehouse` runs the same command line as `trades-warehouse`."""

from trades_warehouse.cli import app

app()
