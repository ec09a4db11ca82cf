"""Validate the prestatieafspraken CSVs against their data package and build the SQLite database."""

__version__ = "0.1.0"
