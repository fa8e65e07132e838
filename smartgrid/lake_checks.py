"""Check the lake once, before any work: one clear line instead of a traceback or an empty build.

Each command declares what it needs of the lake (:class:`Need`); ``pipeline.cli.main`` runs
:func:`check_lake` before the command's log file is created and before Spark starts:

* ``CREATE`` (produce, replay, ingest, demo, kafka): a directory, or a path that can be created
  (its nearest existing ancestor is a writable directory); writable.
* ``INGESTED`` (build, export, report): an existing, writable directory holding at least one
  Delta table the pipeline wrote (raw, validated or a curated one), unless ``allow_empty``
  (``--allow-empty``), when it is checked as ``CREATE``.

An ``abfss://`` (or other) URI is not checked here: the cloud store answers for itself.
Pure checks on the file system; nothing is created.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path

from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

# Pseudo file systems: never a lake, whatever their permission bits say to root.
REFUSED_ROOTS = ("/proc", "/sys", "/dev")


class Need(enum.Enum):
    NONE = "none"
    CREATE = "create"
    INGESTED = "ingested"


def has_ingested_tables(lake: Lake) -> bool:
    """Whether the lake holds a Delta table the pipeline wrote: raw, validated or a curated one."""
    for zone in (lake.raw, lake.validated):
        if Path(zone, "_delta_log").is_dir():
            return True
    curated = Path(lake.curated)
    try:
        return any(Path(child, "_delta_log").is_dir() for child in curated.iterdir())
    except OSError:
        return False


def _under(path: Path, root: str) -> bool:
    return path == Path(root) or Path(root) in path.parents


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path("/")


def check_lake(value: str | None, need: Need, *, allow_empty: bool = False) -> Lake:
    """The resolved lake, or a :class:`SmartgridError` saying in one line what is wrong with it.

    ``value`` is ``--lake`` as typed (``None`` when not given: ``$SMARTGRID_LAKE`` or ``./lake``).
    """
    if value is not None and not value.strip():
        raise SmartgridError("--lake is empty: give a directory, or leave --lake out for ./lake")
    env = os.environ.get("SMARTGRID_LAKE")
    if value is None and env is not None and not env.strip():
        raise SmartgridError("SMARTGRID_LAKE is set but empty: unset it or give a directory")
    typed = value if value is not None else env
    if typed is not None and any(ch in typed for ch in "\n\r\0"):
        raise SmartgridError(f"the lake path {typed!r} contains a line break or a NUL character")
    if need is Need.NONE:
        return Lake.resolve(value)
    lake = Lake.resolve(value)
    if not lake.is_local:
        return lake
    root = Path(lake.root.removeprefix("file:"))
    for refused in REFUSED_ROOTS:
        if _under(root, refused):
            raise SmartgridError(
                f"the lake {root} is under {refused}, a system file system: use another --lake"
            )
    if need is Need.INGESTED and not allow_empty:
        if os.path.lexists(root) and not root.is_dir():
            raise SmartgridError(f"the lake {root} is not a directory: use another --lake")
        if not root.is_dir():
            raise SmartgridError(
                f"the lake {root} does not exist: run `smartgrid produce` and `smartgrid ingest` "
                "on it first, or check --lake / SMARTGRID_LAKE"
            )
        _check_writable(root)
        if not has_ingested_tables(lake):
            raise SmartgridError(
                f"the lake {root} has no ingested tables (no raw, validated or curated Delta "
                "table): run `smartgrid ingest` first, check --lake, or pass --allow-empty"
            )
        return lake
    if os.path.lexists(root):
        if not root.is_dir():
            raise SmartgridError(f"the lake {root} is not a directory: use another --lake")
        _check_writable(root)
        return lake
    parent = _nearest_existing(root.parent)
    if not parent.is_dir():
        raise SmartgridError(
            f"the lake {root} cannot be created: {parent} is not a directory; use another --lake"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SmartgridError(
            f"the lake {root} cannot be created: {parent} is not writable; use another --lake"
        )
    return lake


def _check_writable(root: Path) -> None:
    if not os.access(root, os.W_OK | os.X_OK):
        raise SmartgridError(f"the lake {root} is not writable: use another --lake")
