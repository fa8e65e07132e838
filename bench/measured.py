"""The capacity model's measured figures: the bench scripts record them here (``--record``).

    python bench/measured.py --update-doc     # refill docs/capacity.md's generated blocks
    python bench/measured.py --show           # the figures and their provenance

``record`` writes figures into ``capacity/measured.json`` (or another file) with how and when
they were measured and the machine's cores and load, then refills docs/capacity.md's tables, so
the doc, the command and the file never disagree (tests/capacity checks it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from capacity import report  # noqa: E402
from capacity.model import MEASURED_FILE, example_fleets, load_measured, plan  # noqa: E402

DOC = ROOT / "docs" / "capacity.md"
# Units of the figures the committed file may not hold yet (the model does not use them).
UNITS = {
    "producer_events_per_second_per_core": "events/s per core (generation and local sink)",
    "eventhubs_sink_events_per_second_per_core": "events/s per core (the sink, in memory)",
    "dbt_incremental_seconds_by_base": "s per incremental run, by base readings",
    "dbt_full_refresh_seconds_by_base": "s per full refresh, by base readings",
    "kafka_ingest_events_per_second_per_core": "events/s per core (ingest from Kafka)",
    "kafka_ingest_fixed_seconds": "s per run (ingest from Kafka)",
    "dbt_incremental_growth_5m_to_10m": "ratio of incremental times, 10M base / 5M base",
}


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} cores, load average {load:.1f} at the start"


def master_cores() -> int:
    """Cores of the Spark master the benches run on (SMARTGRID_SPARK_MASTER, local[2] default)."""
    master = os.environ.get("SMARTGRID_SPARK_MASTER", "local[2]")
    inside = master[master.find("[") + 1 : master.find("]")] if "[" in master else ""
    return int(inside) if inside.isdigit() else os.cpu_count() or 1


def record(figures: dict[str, float], how: str, *, path: Path | None = None) -> Path:
    """Write ``figures`` (name -> value) as measured now by ``how``; refill the doc if default."""
    target = Path(path) if path else MEASURED_FILE
    data = json.loads(target.read_text(encoding="utf-8")) if target.exists() else {}
    if not data and target != MEASURED_FILE:
        data = json.loads(MEASURED_FILE.read_text(encoding="utf-8"))
    when = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for name, value in figures.items():
        entry = data["figures"].setdefault(name, {"unit": UNITS.get(name, "")})
        entry.update(
            value=round(float(value), 6),
            status="measured",
            how=f"{how} ({machine()})",
            measured_at=when,
        )
    target.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"recorded {', '.join(sorted(figures))} in {target}")
    if target == MEASURED_FILE:
        update_doc()
    return target


def update_doc(doc: Path = DOC) -> None:
    measured = load_measured()
    plans = [(label, plan(fleet, measured)) for label, fleet in example_fleets()]
    text = doc.read_text(encoding="utf-8")
    doc.write_text(report.update_doc(text, report.doc_blocks(plans, measured)), encoding="utf-8")
    print(f"refilled {doc.relative_to(ROOT)}")


def fit_line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares y = a + b x: (intercept a, slope b)."""
    n = len(xs)
    if n < 2 or len(set(xs)) < 2:
        raise ValueError("a line needs two different sizes at least")
    mx, my = sum(xs) / n, sum(ys) / n
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    return my - slope * mx, slope


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-doc", action="store_true")
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args(argv)
    if args.show:
        print(report.provenance(load_measured()))
    if args.update_doc:
        update_doc()
    return 0


if __name__ == "__main__":
    sys.exit(main())
