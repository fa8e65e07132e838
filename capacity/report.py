"""Render capacity plans: a console table, Markdown (docs/capacity.md) or JSON. Pure."""

from __future__ import annotations

import json
from collections.abc import Sequence

from capacity.model import Measured, Plan

COLUMNS = (
    "meters",
    "interval",
    "events/s mean",
    "peak/mean",
    "events/s peak",
    "MB/s peak",
    "TUs",
    "partitions",
    "hub tier",
    "ingest cores",
    "GB/day",
    "TB/year",
    "dbt run (s)",
)


def _row(label: str, item: Plan) -> list[str]:
    return [
        f"{item.fleet.meters:,}",
        label,
        f"{item.events_per_second_mean:,.0f}",
        f"{item.peak_to_mean:g}",
        f"{item.events_per_second_peak:,.0f}",
        f"{item.megabytes_per_second_peak:,.1f}",
        f"{item.throughput_units:,}",
        f"{item.partitions:,}",
        item.hub_tier,
        f"{item.ingest_cores:,}" if item.ingest_feasible else "n/a",
        f"{item.storage_gb_per_day:,.1f}",
        f"{item.storage_tb_per_year:,.2f}",
        f"{item.dbt_incremental_seconds:,.0f}" + ("" if item.dbt_fits_schedule else " !"),
    ]


def table(plans: Sequence[tuple[str, Plan]]) -> str:
    rows = [list(COLUMNS)] + [_row(label, item) for label, item in plans]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.rjust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines + _warnings(plans))


def markdown(plans: Sequence[tuple[str, Plan]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_row(label, item)) + " |" for label, item in plans]
    return "\n".join(lines + _warnings(plans))


def _warnings(plans: Sequence[tuple[str, Plan]]) -> list[str]:
    out: list[str] = []
    for label, item in plans:
        for warning in item.warnings:
            out.append(f"- {item.fleet.meters:,} meters at {label}: {warning}")
    return ["", *out] if out else []


def as_json(plans: Sequence[tuple[str, Plan]], measured: Measured) -> str:
    return json.dumps(
        {
            "plans": [
                {
                    "interval": label,
                    "meters": item.fleet.meters,
                    "interval_seconds": item.fleet.interval_seconds,
                    "events_per_second_mean": item.events_per_second_mean,
                    "peak_to_mean": item.peak_to_mean,
                    "events_per_second_peak": item.events_per_second_peak,
                    "megabytes_per_second_peak": item.megabytes_per_second_peak,
                    "throughput_units": item.throughput_units,
                    "partitions": item.partitions,
                    "hub_tier": item.hub_tier,
                    "ingest_cores": item.ingest_cores,
                    "storage_gb_per_day": item.storage_gb_per_day,
                    "storage_tb_per_year": item.storage_tb_per_year,
                    "dbt_new_rows_per_run": item.dbt_new_rows_per_run,
                    "dbt_incremental_seconds": item.dbt_incremental_seconds,
                    "dbt_fits_schedule": item.dbt_fits_schedule,
                    "warnings": list(item.warnings),
                }
                for label, item in plans
            ],
            "measured": {
                f.name: {"value": f.value, "unit": f.unit, "status": f.status, "how": f.how}
                for f in measured.provenance
            },
        },
        indent=2,
    )


def provenance(measured: Measured) -> str:
    lines = ["| figure | value | unit | status | how |", "|---|---|---|---|---|"]
    for f in measured.provenance:
        when = f" ({f.measured_at})" if f.measured_at else ""
        lines.append(f"| `{f.name}` | {f.value:,.6g} | {f.unit} | {f.status}{when} | {f.how} |")
    return "\n".join(lines)


BLOCKS = ("examples", "measured")


def doc_blocks(plans: Sequence[tuple[str, Plan]], measured: Measured) -> dict[str, str]:
    """The generated parts of docs/capacity.md: the example fleets' table and the figures."""
    return {"examples": markdown(plans), "measured": provenance(measured)}


def update_doc(text: str, blocks: dict[str, str]) -> str:
    """``text`` with each ``<!-- capacity:NAME -->`` .. ``<!-- /capacity:NAME -->`` refilled."""
    for name, body in blocks.items():
        start, end = f"<!-- capacity:{name} -->", f"<!-- /capacity:{name} -->"
        head, found, rest = text.partition(start)
        if not found or end not in rest:
            raise ValueError(f"the doc has no {start} ... {end} block")
        _, _, tail = rest.partition(end)
        text = f"{head}{start}\n{body}\n{end}{tail}"
    return text
