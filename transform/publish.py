"""Publishing a staged CSV export: ``<dir>/.<name>.staging/part-*.csv`` renamed to ``<dir>/<name>``.

The ``export_csv`` macro writes one sorted partition into a hidden staging directory beside the
target; publishing renames it over the target. One implementation serves both places the
pipeline runs, over a small file-system protocol (the part of ``dbutils.fs`` it needs):

- ``LocalFileSystem``: a laptop's lake; ``os.replace`` swaps the file atomically, so a reader
  sees the old file or the new one.
- ``dbutils.fs`` on Databricks (deploy/tasks.py): on ADLS Gen2 (hierarchical namespace) and
  Volumes a rename is one metadata operation, so a reader sees no file or the whole file, never
  part of one. A rename does not replace there, so the old file is removed first: a Power BI
  refresh at that instant fails and is retried; it never reads half a file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from smartgrid.errors import SmartgridError

STAGING_SUFFIX = ".staging"


class FileSystem(Protocol):
    """The part of ``dbutils.fs`` that publishing uses."""

    def ls(self, path: str) -> list[Any]: ...

    def mv(self, source: str, destination: str) -> bool: ...

    def rm(self, path: str, recurse: bool = False) -> bool: ...


@dataclass(frozen=True)
class FileInfo:
    """An ``ls`` entry, shaped like dbutils' ``FileInfo`` (``name``, ``path``)."""

    name: str
    path: str


class LocalFileSystem:
    """A local directory behind the ``FileSystem`` protocol; ``mv`` replaces its target atomically."""

    # os.replace swaps the target in one step: no need to remove it first.
    replaces_on_move = True

    def ls(self, path: str) -> list[FileInfo]:
        return [FileInfo(entry.name, str(entry)) for entry in Path(path).iterdir()]

    def mv(self, source: str, destination: str) -> bool:
        os.replace(source, destination)
        return True

    def rm(self, path: str, recurse: bool = False) -> bool:
        target = Path(path)
        if target.is_dir():
            if recurse:
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.rmdir()
        else:
            target.unlink()
        return True


def _name(info: Any) -> str:
    name = info.name if hasattr(info, "name") else str(info).rstrip("/").rsplit("/", 1)[-1]
    return name.rstrip("/")


def _path(info: Any) -> str:
    return info.path if hasattr(info, "path") else str(info)


def _missing(exc: Exception) -> bool:
    # dbutils wraps Java's FileNotFoundException in its own types; match on the text.
    if isinstance(exc, FileNotFoundError):
        return True
    text = f"{type(exc).__name__} {exc}".lower()
    return any(s in text for s in ("filenotfound", "not found", "does not exist", "no such file"))


def publish_staged_exports(directory: str, fs: FileSystem) -> list[str]:
    """Rename every ``<dir>/.<name>.staging/part-*.csv`` to ``<dir>/<name>``; return the targets."""
    directory = directory.rstrip("/")
    try:
        entries = fs.ls(directory)
    except Exception as exc:
        if _missing(exc):
            return []
        raise
    published: list[str] = []
    for entry in sorted(entries, key=_name):
        name = _name(entry)
        if not (name.startswith(".") and name.endswith(STAGING_SUFFIX)):
            continue
        parts = [p for p in fs.ls(_path(entry)) if _name(p).startswith("part-")]
        if len(parts) != 1:
            raise SmartgridError(
                f"staged export {directory}/{name} holds {len(parts)} part files, expected exactly one"
            )
        target = f"{directory}/{name[1 : -len(STAGING_SUFFIX)]}"
        if not getattr(fs, "replaces_on_move", False):
            with contextlib.suppress(Exception):  # absent on the first export
                fs.rm(target)
        fs.mv(_path(parts[0]), target)
        fs.rm(_path(entry), True)
        published.append(target)
    return published


def publish_local(directory: str | Path) -> list[Path]:
    """``publish_staged_exports`` on a local directory (``smartgrid build`` / ``export``)."""
    return [Path(p) for p in publish_staged_exports(str(directory), LocalFileSystem())]
