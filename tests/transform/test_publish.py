"""Publishing a staged CSV export on a local lake: the one implementation, over LocalFileSystem.

(deploy's tests run the same function over a stand-in for ``dbutils.fs``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from smartgrid.errors import SmartgridError
from transform.publish import LocalFileSystem, publish_local, publish_staged_exports


class RecordingFileSystem(LocalFileSystem):
    def __init__(self) -> None:
        self.removed: list[str] = []

    def rm(self, path: str, recurse: bool = False) -> bool:
        self.removed.append(path)
        return super().rm(path, recurse)


def _stage(directory: Path, name: str, text: str, parts: int = 1) -> Path:
    staging = directory / f".{name}.staging"
    staging.mkdir(parents=True)
    (staging / "_SUCCESS").write_text("")
    for i in range(parts):
        (staging / f"part-0000{i}.csv").write_text(text)
    return staging


def test_the_target_is_replaced_in_place_never_removed_first(tmp_path: Path) -> None:
    """os.replace swaps the file: a reader sees the old file or the new one, never none."""
    (tmp_path / "out.csv").write_text("old\n")
    staging = _stage(tmp_path, "out.csv", "new\n")
    fs = RecordingFileSystem()

    assert publish_staged_exports(str(tmp_path), fs) == [f"{tmp_path}/out.csv"]

    assert (tmp_path / "out.csv").read_text() == "new\n"
    assert fs.removed == [str(staging)]  # the staging directory only
    assert not staging.exists()


def test_publish_local_returns_paths_and_ignores_a_missing_directory(tmp_path: Path) -> None:
    _stage(tmp_path, "a.csv", "a\n")
    assert publish_local(tmp_path) == [tmp_path / "a.csv"]
    assert publish_local(tmp_path) == []
    assert publish_local(tmp_path / "missing") == []


def test_two_part_files_are_refused(tmp_path: Path) -> None:
    _stage(tmp_path, "a.csv", "a\n", parts=2)
    with pytest.raises(SmartgridError, match="2 part files"):
        publish_local(tmp_path)
    assert not (tmp_path / "a.csv").exists()
