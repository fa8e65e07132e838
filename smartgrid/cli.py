"""``smartgrid``: the one console entry point. It parses options and hands over; no work here.

Each part of the project registers its own subcommands (``register(subparsers, common)``),
so the CLI grows with the pipeline without this file knowing the details.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from smartgrid import __version__
from smartgrid.errors import SmartgridError

# Modules that contribute subcommands, in the order they appear in --help.
COMMAND_MODULES = (
    "producer.cli",  # produce, replay
    "ingest.cli",  # ingest
    "smartgrid.dbt_cli",  # build, export
    "smartgrid.report_cli",  # report
    "smartgrid.kafka_cli",  # kafka
    "smartgrid.demo",  # demo
)


def common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--lake",
        metavar="PATH",
        help="lake root (default: $SMARTGRID_LAKE or ./lake); a local path or an abfss:// URI",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smartgrid",
        description="Smart-meter analytics pipeline: produce -> event hub -> ingest -> dbt -> CSV.",
    )
    parser.add_argument("--version", action="version", version=f"smartgrid {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = common_options()
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a real import error inside the module: surface it
                raise
            continue
        module.register(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SmartgridError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
