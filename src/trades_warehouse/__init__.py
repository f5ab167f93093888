"""trades_warehouse: exact FIFO P&L from a trading bot's raw orders, built with dbt."""

__version__ = "0.1.0"
