"""Whether a path holds a Delta table: one probe for the ingest's counts and the dashboard."""

from __future__ import annotations

from typing import Any


def is_delta_table(spark: Any, path: str) -> bool:
    """True when ``path`` (local or abfss://) holds a Delta table; a missing path is False."""
    from delta.tables import DeltaTable

    return bool(DeltaTable.isDeltaTable(spark, path))
