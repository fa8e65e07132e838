"""The capacity model: a fleet of N meters reporting every interval -> what the platform needs.

A pure function (``plan``) over frozen dataclasses: no Spark, no I/O except ``load_measured``,
which reads the figures this project's benchmarks measured (``capacity/measured.json``, each
with its provenance). The published platform limits live in one place, ``PUBLISHED`` below,
copied from ``../shared/reference/grid-facts.md`` (Azure Event Hubs) and Microsoft's Event Hubs
quotas page (the Standard tier's 40 throughput units), each with its source.

Assumptions (``Assumptions``, every one an option of ``smartgrid capacity``):

* Meters report at a fixed interval, so the *mean* event rate is flat: meters / interval. The
  daily load shape changes the readings' values, not their number or size. The *peak* comes
  from clock alignment: meters read at the interval boundary and send within ``spread`` after
  it (jitter), so the peak rate is meters / min(interval, spread). Peak-to-mean =
  interval / min(interval, spread).
* Event Hubs is sized for the peak (it throttles beyond its limits); the ingest for the mean
  (the hub buffers a burst; the ingest drains each trigger's backlog within the trigger).
* Storage: measured compressed bytes per row of the raw, validated and curated Delta tables,
  one row per reading in each; no time travel or replicas counted.
* The dbt incremental time: the no-new-data floor plus the new rows at the measured per-row
  rate, scaled by cores. An extrapolation from 2 local cores, and it assumes the incremental
  cost stays flat as the base grows (bench/bench_dbt.py --sweep measures that).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

MEASURED_FILE = Path(__file__).with_name("measured.json")

SECONDS_PER_DAY = 86_400
DAYS_PER_YEAR = 365
MB = 1_000_000  # Event Hubs' "1 MB/s": decimal megabytes (the smaller unit, so the safer count)


@dataclass(frozen=True)
class Published:
    """Limits the vendors publish (not measured here). One place; the doc and tests read it."""

    tu_ingress_events_per_second: int = 1_000
    tu_ingress_bytes_per_second: int = 1 * MB
    standard_max_partitions: int = 32
    standard_max_throughput_units: int = 40
    # Microsoft's guidance: a partition takes up to about one TU of ingress; so partitions >= TUs.
    partition_ingress_events_per_second: int = 1_000
    partition_ingress_bytes_per_second: int = 1 * MB
    max_batch_bytes: int = 1 * MB
    sources: tuple[tuple[str, str], ...] = (
        ("ingress per TU: 1 MB/s or 1,000 events/s", "grid-facts.md, Azure Event Hubs"),
        ("32 partitions per event hub (Basic, Standard)", "grid-facts.md, Azure Event Hubs"),
        ("largest batch 1 MB (Standard and above)", "grid-facts.md, Azure Event Hubs"),
        (
            "Standard tier: at most 40 TUs per namespace",
            "Microsoft Learn, 'Azure Event Hubs quotas and limits'",
        ),
        (
            "a partition's ingress is about one TU's",
            "Microsoft Learn, 'Scaling with Event Hubs' (partitions >= TUs)",
        ),
    )


PUBLISHED = Published()


@dataclass(frozen=True)
class Figure:
    """One measured figure and where it came from."""

    name: str
    value: float
    unit: str
    status: str  # measured | from-readme | placeholder
    how: str
    measured_at: str | None = None


@dataclass(frozen=True)
class Measured:
    """The figures the model takes from this project's benchmarks."""

    ingest_events_per_second_per_core: float
    ingest_fixed_seconds: float
    wire_bytes_per_event: float
    eventhubs_bytes_per_event: float
    raw_bytes_per_row: float
    validated_bytes_per_row: float
    curated_bytes_per_row: float
    dbt_incremental_floor_seconds: float
    dbt_incremental_rows_per_second: float
    dbt_local_cores: float
    provenance: tuple[Figure, ...] = field(default=(), compare=False)


def load_measured(path: Path = MEASURED_FILE) -> Measured:
    """The measured figures, from the committed file the bench scripts write (with --record)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["figures"]
    names = [name for name in Measured.__dataclass_fields__ if name != "provenance"]
    missing = [name for name in names if name not in data]
    if missing:
        raise ValueError(f"{path}: missing figures {', '.join(missing)}")
    # Figures the model does not use (producer and sink rates) are kept for the record.
    names += sorted(set(data) - set(names))
    figures = tuple(
        Figure(
            name=name,
            value=float(data[name]["value"]),
            unit=str(data[name]["unit"]),
            status=str(data[name]["status"]),
            how=str(data[name]["how"]),
            measured_at=data[name].get("measured_at"),
        )
        for name in names
    )
    used = {f.name: f.value for f in figures if f.name in Measured.__dataclass_fields__}
    return Measured(**used, provenance=figures)


@dataclass(frozen=True)
class Assumptions:
    """The model's knobs; each is an option of ``smartgrid capacity``."""

    spread_seconds: float = 60.0  # meters send within this long after each interval boundary
    hub_headroom: float = 1.25  # Event Hubs TUs above the peak
    ingest_headroom: float = 1.5  # ingest cores above the mean (catch-up, skew, restarts)
    trigger_seconds: float = 60.0  # the ingest's processing-time trigger
    dbt_every_seconds: float = 3_600.0  # how often the incremental dbt job runs
    dbt_cores: int = 16  # cores of the SQL warehouse (an assumption: Databricks sizes by name)

    def __post_init__(self) -> None:
        for name in ("spread_seconds", "trigger_seconds", "dbt_every_seconds", "dbt_cores"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be greater than zero")
        for name in ("hub_headroom", "ingest_headroom"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


@dataclass(frozen=True)
class Fleet:
    meters: int
    interval_seconds: float

    def __post_init__(self) -> None:
        if self.meters < 1:
            raise ValueError("meters must be at least 1")
        if self.interval_seconds <= 0:
            raise ValueError("interval must be greater than zero")


@dataclass(frozen=True)
class Plan:
    fleet: Fleet
    events_per_second_mean: float
    peak_to_mean: float
    events_per_second_peak: float
    megabytes_per_second_peak: float
    throughput_units: int
    partitions: int
    hub_tier: str  # "Standard" or the advice beyond it
    ingest_cores: int
    ingest_feasible: bool  # False when a trigger's fixed cost alone fills the trigger
    rows_per_day: float
    storage_gb_per_day: float
    storage_tb_per_year: float
    dbt_new_rows_per_run: float
    dbt_incremental_seconds: float
    dbt_fits_schedule: bool
    warnings: tuple[str, ...]


def plan(
    fleet: Fleet,
    measured: Measured,
    assumptions: Assumptions = Assumptions(),
    published: Published = PUBLISHED,
) -> Plan:
    """What a fleet needs: events and bytes at peak, Event Hubs, ingest cores, storage, dbt."""
    interval = fleet.interval_seconds
    mean = fleet.meters / interval
    window = min(interval, assumptions.spread_seconds)
    peak_to_mean = interval / window
    peak = mean * peak_to_mean
    bytes_peak = peak * measured.eventhubs_bytes_per_event
    mb_peak = bytes_peak / MB

    load_in_tus = max(
        peak / published.tu_ingress_events_per_second,
        bytes_peak / published.tu_ingress_bytes_per_second,
    )
    tus = max(1, math.ceil(load_in_tus * assumptions.hub_headroom - 1e-9))
    load_in_partitions = max(
        peak / published.partition_ingress_events_per_second,
        bytes_peak / published.partition_ingress_bytes_per_second,
    )
    partitions_for_load = math.ceil(load_in_partitions * assumptions.hub_headroom - 1e-9)

    # Ingest: each trigger drains trigger_seconds of events within the trigger, after its fixed
    # cost; headroom on top. A fixed cost as long as the trigger leaves no time at all.
    usable = assumptions.trigger_seconds - measured.ingest_fixed_seconds
    ingest_feasible = usable > 0
    per_trigger = mean * assumptions.trigger_seconds * assumptions.ingest_headroom
    if ingest_feasible:
        ingest_cores = max(
            1, math.ceil(per_trigger / (measured.ingest_events_per_second_per_core * usable))
        )
    else:
        ingest_cores = 0
    # Partitions >= TUs (a partition takes about one TU's ingress); fixed at creation on
    # Standard, so size them for the fleet's growth. Spark's Kafka source splits partitions
    # (minPartitions), so the ingest's cores need not match them.
    partitions = max(tus, partitions_for_load, 1)

    warnings: list[str] = []
    over_standard = (
        tus > published.standard_max_throughput_units
        or partitions > published.standard_max_partitions
    )
    if over_standard:
        hub_tier = "beyond Standard"
        warnings.append(
            f"{tus:,} TUs / {partitions:,} partitions exceed the Standard tier "
            f"({published.standard_max_throughput_units} TUs, "
            f"{published.standard_max_partitions} partitions per event hub): use Premium or "
            "Dedicated, or shard over several event hubs by meter hash, or land the data with "
            "Event Hubs Capture / files read by Auto Loader"
        )
    else:
        hub_tier = "Standard"
    if not ingest_feasible:
        warnings.append(
            f"the ingest's fixed cost per micro-batch ({measured.ingest_fixed_seconds:g} s) "
            f"fills the {assumptions.trigger_seconds:g} s trigger: lengthen the trigger"
        )

    rows_per_day = mean * SECONDS_PER_DAY
    bytes_per_row = (
        measured.raw_bytes_per_row
        + measured.validated_bytes_per_row
        + measured.curated_bytes_per_row
    )
    gb_per_day = rows_per_day * bytes_per_row / 1e9
    tb_per_year = gb_per_day * DAYS_PER_YEAR / 1e3

    new_rows = mean * assumptions.dbt_every_seconds
    core_ratio = assumptions.dbt_cores / measured.dbt_local_cores
    dbt_seconds = measured.dbt_incremental_floor_seconds + new_rows / (
        measured.dbt_incremental_rows_per_second * core_ratio
    )
    fits = dbt_seconds < assumptions.dbt_every_seconds
    if not fits:
        warnings.append(
            f"the dbt incremental run ({dbt_seconds:,.0f} s) outlasts its schedule "
            f"({assumptions.dbt_every_seconds:,.0f} s): a larger warehouse, or streaming tables"
        )

    return Plan(
        fleet=fleet,
        events_per_second_mean=mean,
        peak_to_mean=peak_to_mean,
        events_per_second_peak=peak,
        megabytes_per_second_peak=mb_peak,
        throughput_units=tus,
        partitions=partitions,
        hub_tier=hub_tier,
        ingest_cores=ingest_cores,
        ingest_feasible=ingest_feasible,
        rows_per_day=rows_per_day,
        storage_gb_per_day=gb_per_day,
        storage_tb_per_year=tb_per_year,
        dbt_new_rows_per_run=new_rows,
        dbt_incremental_seconds=dbt_seconds,
        dbt_fits_schedule=fits,
        warnings=tuple(warnings),
    )


EXAMPLE_METERS = (10_000, 100_000, 1_000_000, 10_000_000)
EXAMPLE_INTERVALS = (("15m", 900.0), ("1m", 60.0), ("1s", 1.0))


def example_fleets() -> tuple[tuple[str, Fleet], ...]:
    """The doc's example fleets: 10k..10M meters at 15 min, 1 min and 1 s."""
    return tuple(
        (label, Fleet(meters, seconds))
        for meters in EXAMPLE_METERS
        for label, seconds in EXAMPLE_INTERVALS
    )
