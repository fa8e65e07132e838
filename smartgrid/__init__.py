"""Shared foundation of the smart-grid pipeline: lake layout, Spark session, event contract, CLI."""

__version__ = "0.1.0"
