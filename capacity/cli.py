"""``smartgrid capacity``: size the platform for a fleet (options only; the model is pure).

smartgrid capacity --meters 1000000 --interval 15m
smartgrid capacity --examples --format markdown   # the table of docs/capacity.md
"""

from __future__ import annotations

import argparse

from smartgrid.durations import parse_duration
from smartgrid.errors import SmartgridError


def register(subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "capacity",
        parents=[common],
        help="size Event Hubs, the ingest, storage and dbt for a fleet (from measured rates)",
        description=(
            "The capacity model (docs/capacity.md): for N meters reporting every interval, the "
            "events and MB per second at peak, Event Hubs throughput units and partitions, "
            "ingest cores, Delta storage per day and year, and the dbt incremental run's time. "
            "Measured figures come from capacity/measured.json (the bench scripts write it)."
        ),
    )
    parser.add_argument("--meters", metavar="N", help="meters in the fleet, e.g. 1000000")
    parser.add_argument(
        "--interval", metavar="DURATION", default="15m", help="reporting interval (default: 15m)"
    )
    parser.add_argument(
        "--examples",
        action="store_true",
        help="the example fleets instead: 10k, 100k, 1M, 10M meters at 15m, 1m and 1s",
    )
    parser.add_argument(
        "--spread",
        metavar="DURATION",
        default="60s",
        help="meters send within this long after each interval boundary (default: 60s); "
        "the peak is meters / min(interval, spread)",
    )
    parser.add_argument(
        "--trigger",
        metavar="DURATION",
        default="1m",
        help="the ingest's micro-batch trigger (default: 1m)",
    )
    parser.add_argument(
        "--dbt-every",
        metavar="DURATION",
        default="1h",
        help="how often the incremental dbt run runs (default: 1h)",
    )
    parser.add_argument(
        "--dbt-cores",
        metavar="N",
        default="16",
        help="cores of the SQL warehouse, an assumption (default: 16)",
    )
    parser.add_argument(
        "--format",
        choices=("table", "markdown", "json"),
        default="table",
        help="output format (default: table)",
    )
    parser.set_defaults(func=run)


def _positive_int(text: str | None, name: str) -> int:
    try:
        value = int(str(text).replace(",", "").replace("_", ""))
    except ValueError:
        raise SmartgridError(f"{name} {text!r} is not a whole number") from None
    if value < 1:
        raise SmartgridError(f"{name} {text!r} must be at least 1")
    return value


def run(args: argparse.Namespace) -> int:
    from capacity import report
    from capacity.model import Assumptions, Fleet, example_fleets, load_measured, plan

    # Every option is checked before any work, each refusal one line.
    if args.examples and args.meters is not None:
        raise SmartgridError("--examples and --meters are exclusive: give one")
    if not args.examples and args.meters is None:
        raise SmartgridError("give --meters N (and --interval), or --examples")
    assumptions = Assumptions(
        spread_seconds=parse_duration(args.spread, name="--spread").total_seconds(),
        trigger_seconds=parse_duration(args.trigger, name="--trigger").total_seconds(),
        dbt_every_seconds=parse_duration(args.dbt_every, name="--dbt-every").total_seconds(),
        dbt_cores=_positive_int(args.dbt_cores, "--dbt-cores"),
    )
    if args.examples:
        fleets = example_fleets()
    else:
        meters = _positive_int(args.meters, "--meters")
        interval = parse_duration(args.interval, name="--interval").total_seconds()
        fleets = ((args.interval.strip(), Fleet(meters, interval)),)

    measured = load_measured()
    plans = [(label, plan(fleet, measured, assumptions)) for label, fleet in fleets]
    if args.format == "json":
        print(report.as_json(plans, measured))
    elif args.format == "markdown":
        print(report.markdown(plans))
    else:
        print(report.table(plans))
    return 0
