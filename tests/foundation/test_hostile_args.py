"""Every command, given hostile arguments or lake paths, fails in one ``error:`` line.

The commands come from ``pipeline.cli.build_parser`` (a new command, or a new option, is covered
without editing this file). Each case must be refused before any work: a non-zero exit, exactly
one line on stderr, starting ``error:``, no traceback, no engine output; a lake that does not
exist is not created. They run in-process through ``pipeline.cli.main`` (they never get as far
as Spark), plus a few as real processes to see the console a person sees.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import cli
from smartgrid.lake_checks import Need

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine_noise import noisy_lines

ROOT = Path(__file__).resolve().parents[2]
POSITIONALS = {"replay": ["events.csv"]}  # required positional arguments of a command
UNKNOWN = "--no-such-option"


def _leaves(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix, parser
        return
    for name, sub in subs[0].choices.items():
        yield from _leaves(sub, (*prefix, name))


LEAVES = {" ".join(path): parser for path, parser in _leaves(cli.build_parser())}


def _base(command: str) -> list[str]:
    return [*command.split(), *POSITIONALS.get(command.split()[0], [])]


def _need(command: str) -> Need:
    args = cli.build_parser().parse_args(_base(command))
    return cli.lake_need(args)


def _rejects(kind, value: str) -> bool:
    try:
        kind(value)
    except (argparse.ArgumentTypeError, TypeError, ValueError, OverflowError):
        return True
    return False


def _option_cases(command: str) -> list[tuple[str, list[str]]]:
    """Hostile values for every option argparse itself checks (type, choices), and a missing
    value for every option that takes one."""
    cases = [("unknown option", [UNKNOWN]), ("unknown option value", [f"{UNKNOWN}=1"])]
    for action in LEAVES[command]._actions:
        if not action.option_strings or action.nargs == 0 or action.dest == "help":
            continue
        flag = action.option_strings[-1]
        cases.append((f"{flag} without a value", [flag]))
        if action.choices:
            cases.append((f"{flag} unknown choice", [flag, "no-such-choice"]))
            cases.append((f"{flag} empty choice", [f"{flag}="]))
        if action.type is not None and action.type not in (str, Path):
            for value in ("x", "", "nan", "inf", "1e999", "-", "1\n2", "٣", "-1", "0"):
                if _rejects(action.type, value):
                    cases.append((f"{flag} {value!r}", [f"{flag}={value}"]))
    return cases


def _lake_cases(command: str, tmp: Path) -> list[tuple[str, str]]:
    afile = tmp / "a-file"
    afile.write_text("not a lake\n")
    cases = [
        ("empty", ""),
        ("blank", "   "),
        ("a file", str(afile)),
        ("under a file", str(afile / "lake")),
        ("under /proc", "/proc/smartgrid-lake"),
        ("/proc itself", "/proc"),
        ("under /sys", "/sys/smartgrid-lake"),
        ("a line break", str(tmp / "la\nke")),
        ("a NUL", str(tmp / "la\0ke")),
    ]
    if _need(command) is Need.INGESTED:
        (tmp / "empty-lake").mkdir()
        cases += [("missing", str(tmp / "missing-lake")), ("empty", str(tmp / "empty-lake"))]
    return cases


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = cli.main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def _assert_one_error_line(code, out: str, err: str, what: str) -> None:
    assert code not in (0, None), what
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), (what, err)
    assert "Traceback" not in out + err, what
    assert "\tat " not in out + err and "Exception in thread" not in out + err, what  # Java
    assert [line for line in noisy_lines(out + err) if line not in lines] == [], what


@pytest.fixture(autouse=True)
def _no_lake_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("SMARTGRID_LAKE", raising=False)
    monkeypatch.delenv("SMARTGRID_LOG_FILE", raising=False)


@pytest.mark.parametrize("command", sorted(LEAVES))
def test_hostile_options_are_one_error_line(command: str, tmp_path: Path, capsys) -> None:
    lake = tmp_path / "lake"
    cases = _option_cases(command)
    assert cases
    for what, extra in cases:
        code, out, err = _run([*_base(command), "--lake", str(lake), *extra], capsys)
        _assert_one_error_line(code, out, err, f"{command} {what}")
    assert not lake.exists()  # refused before any work


@pytest.mark.parametrize("command", sorted(LEAVES))
def test_hostile_lakes_are_one_error_line(command: str, tmp_path: Path, capsys) -> None:
    cases = _lake_cases(command, tmp_path)
    before = sorted(tmp_path.rglob("*"))
    for what, lake in cases:
        code, out, err = _run([*_base(command), "--lake", lake], capsys)
        _assert_one_error_line(code, out, err, f"{command} --lake {what}")
    assert sorted(tmp_path.rglob("*")) == before  # nothing created: no lake, no log


def test_every_command_and_its_lake_need_is_covered() -> None:
    """The lists above are derived, not typed: every command of the CLI is here."""
    assert {"produce", "replay", "ingest", "build", "export", "report", "demo"} <= set(LEAVES)
    assert {c for c in LEAVES if c.startswith("kafka ")} == {
        "kafka start",
        "kafka stop",
        "kafka status",
    }
    assert {c for c in LEAVES if _need(c) is Need.INGESTED} == {"build", "export", "report"}
    # every command checks its lake, except the capacity model, which never touches one
    assert {c for c in LEAVES if _need(c) is Need.NONE} == {"capacity"}


def test_an_empty_smartgrid_lake_variable_is_refused(monkeypatch, capsys) -> None:
    monkeypatch.setenv("SMARTGRID_LAKE", "")
    code, out, err = _run(["build"], capsys)
    _assert_one_error_line(code, out, err, "SMARTGRID_LAKE=''")
    assert "SMARTGRID_LAKE" in err


def test_allow_empty_and_allow_missing_let_an_empty_lake_through(tmp_path: Path) -> None:
    from smartgrid.lake_checks import check_lake

    assert check_lake(str(tmp_path / "new"), Need.INGESTED, allow_empty=True).root.endswith("new")
    args = cli.build_parser().parse_args(["report", "--allow-missing"])
    assert cli.lake_need(args) is Need.CREATE
    (tmp_path / "validated" / "_delta_log").mkdir(parents=True)
    assert check_lake(str(tmp_path), Need.INGESTED).root == str(tmp_path)
    assert check_lake("abfss://c@a.dfs.core.windows.net/sg", Need.INGESTED).root.startswith(
        "abfss://"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere: permission bits do not bind")
def test_a_read_only_lake_is_refused(tmp_path: Path, capsys) -> None:
    lake = tmp_path / "ro"
    lake.mkdir()
    lake.chmod(0o555)
    try:
        code, out, err = _run(["produce", "--lake", str(lake)], capsys)
        _assert_one_error_line(code, out, err, "read-only lake")
        assert "not writable" in err
        code, out, err = _run(["produce", "--lake", str(lake / "sub")], capsys)
        _assert_one_error_line(code, out, err, "under a read-only directory")
    finally:
        lake.chmod(0o755)


@pytest.mark.parametrize(
    "argv",
    [
        ["build", "--lake", "{file}"],
        ["report", "--lake", "{missing}"],
        ["ingest", "--lake", "/proc/smartgrid-lake"],
        ["export", "--lake", ""],
        ["demo", "--meters", "many"],
    ],
    ids=["build-file", "report-missing", "ingest-proc", "export-empty", "demo-bad-int"],
)
def test_the_console_of_a_real_process_is_one_line(argv: list[str], tmp_path: Path) -> None:
    afile = tmp_path / "a-file"
    afile.write_text("x")
    argv = [a.format(file=afile, missing=tmp_path / "missing") for a in argv]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTGRID_")}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    _assert_one_error_line(done.returncode, done.stdout, done.stderr, " ".join(argv))
    assert not (tmp_path / "missing").exists()


def test_no_option_takes_a_bare_float() -> None:
    """A bare ``type=float`` takes ``nan`` and ``inf`` (``--for nan`` ran the live demo for ever):
    every number option uses a finite type from smartgrid.options."""
    bare = [
        f"{command} {action.option_strings[-1]}"
        for command, parser in LEAVES.items()
        for action in parser._actions
        if action.type is float
    ]
    assert bare == []


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--days", "nan"],
        ["demo", "--live", "--for", "nan"],
        ["demo", "--live", "--for", "-1"],
        ["demo", "--live", "--refresh", "inf"],
        ["kafka", "start", "--timeout", "-1"],
        ["kafka", "stop", "--timeout", "nan"],
        ["produce", "--rate", "nan"],
        ["produce", "--nominal-voltage", "nan"],
    ],
    ids=" ".join,
)
def test_numbers_that_parse_but_mean_nothing_are_refused(argv, tmp_path: Path, capsys) -> None:
    lake = tmp_path / "lake"
    code, out, err = _run([*argv, "--lake", str(lake)], capsys)
    _assert_one_error_line(code, out, err, " ".join(argv))
    assert argv[-2] in err  # names the option
    assert not lake.exists()
