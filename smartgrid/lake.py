"""The lake: one root under which the pipeline writes everything.

Laid out like the ADLS Gen2 container it stands in for, so the same relative
layout works for ``./lake`` and ``abfss://container@account.dfs.core.windows.net/smartgrid``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LAKE = "lake"
LAKE_ENV = "SMARTGRID_LAKE"

ZONES = (
    "landing",
    "raw",
    "validated",
    "quarantine",
    "checkpoints",
    "clean",
    "curated",
    "reference",
)


def _is_uri(root: str) -> bool:
    return "://" in root


@dataclass(frozen=True)
class Lake:
    """Paths of every zone under one root (a local directory or an abfss:// URI)."""

    root: str

    @classmethod
    def resolve(cls, cli_value: str | None = None) -> Lake:
        """``--lake`` wins, then ``SMARTGRID_LAKE``, then ``./lake``; local roots become absolute."""
        root = cli_value or os.environ.get(LAKE_ENV) or DEFAULT_LAKE
        if not _is_uri(root):
            root = str(Path(root).expanduser().resolve())
        return cls(root.rstrip("/"))

    @property
    def is_local(self) -> bool:
        return not _is_uri(self.root) or self.root.startswith("file:")

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    @property
    def landing(self) -> str:
        return self.path("landing")

    @property
    def raw(self) -> str:
        return self.path("raw")

    @property
    def validated(self) -> str:
        return self.path("validated")

    @property
    def quarantine(self) -> str:
        return self.path("quarantine")

    @property
    def checkpoints(self) -> str:
        return self.path("checkpoints")

    @property
    def clean(self) -> str:
        return self.path("clean")

    @property
    def curated(self) -> str:
        return self.path("curated")

    @property
    def reference(self) -> str:
        """Reference data written beside the events, e.g. the simulated fleet's meter registry."""
        return self.path("reference")

    # Spark's own state: the warehouse of dbt-managed tables and the embedded Derby metastore.
    @property
    def warehouse(self) -> str:
        return self.path("warehouse")

    @property
    def metastore(self) -> str:
        return self.path("metastore_db")

    def ensure(self) -> Lake:
        """Create the local zone directories (no-op for cloud URIs: ADLS creates paths on write)."""
        if self.is_local:
            for zone in ZONES:
                Path(self.path(zone)).mkdir(parents=True, exist_ok=True)
        return self
