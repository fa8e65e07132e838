"""The simulated fleet: stable meter ids, profiles and per-meter parameters, drawn from the seed.

Calibration on public figures: households use about 7 to 30 kWh a day (Ofgem's UK typical
7.4-9 kWh, US EIA's 2020 average 29 kWh), so a household's daily consumption is drawn
log-normally around 12 kWh and clipped to 7.5-28 kWh. Small commercial sites use more, on
business hours. Voltage sits near nominal (EN 50160 230 V +-10%; ANSI 120 V), power factor
0.85-1.0 (UCI household data: about 0.99 at home, lower with motors in small commercial).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smartgrid.lake import Lake

HOUSEHOLD = "household"
SMALL_COMMERCIAL = "small_commercial"
PROFILES = (HOUSEHOLD, SMALL_COMMERCIAL)

COMMERCIAL_SHARE = 0.15
SOLAR_SHARE_OF_HOUSEHOLDS = 0.25
ENERGY_REPORTING_SHARE = 0.5

HOUSEHOLD_KWH_PER_DAY = (12.0, 0.35, 7.5, 28.0)  # log-normal median, sigma, clip low, clip high
COMMERCIAL_KWH_PER_DAY = (60.0, 0.45, 25.0, 200.0)
SOLAR_PEAK_KW = (2.0, 4.5)  # rooftop system output at a clear noon (uniform)

REGISTRY_HEADER = ("meter_id", "profile", "has_solar", "nominal_voltage", "reports_energy")


def meter_id(index: int) -> str:
    """Stable id of the meter at 0-based ``index``: 0 -> MTR-000001."""
    return f"MTR-{index + 1:06d}"


@dataclass(frozen=True)
class Fleet:
    """Per-meter parameters as arrays (index i is meter ``meter_ids[i]``)."""

    meter_ids: tuple[str, ...]
    profile: np.ndarray  # 0 household, 1 small commercial
    has_solar: np.ndarray  # bool
    reports_energy: np.ndarray  # bool
    mean_watts: np.ndarray  # average consumption (before solar), W
    solar_peak_watts: np.ndarray  # 0 without solar
    noise: np.ndarray  # relative sd of the per-reading noise
    voltage_offset: np.ndarray  # relative offset of this meter's supply point from nominal
    base_power_factor: np.ndarray
    nominal_voltage: float

    @property
    def size(self) -> int:
        return len(self.meter_ids)

    def profile_name(self, i: int) -> str:
        return PROFILES[int(self.profile[i])]


def _lognormal_clipped(rng: np.random.Generator, n: int, spec: tuple[float, ...]) -> np.ndarray:
    median, sigma, low, high = spec
    return np.clip(median * np.exp(sigma * rng.standard_normal(n)), low, high)


def build_fleet(meters: int, seed: int, nominal_voltage: float = 230.0) -> Fleet:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xF1EE7]))
    commercial = rng.random(meters) < COMMERCIAL_SHARE
    has_solar = ~commercial & (rng.random(meters) < SOLAR_SHARE_OF_HOUSEHOLDS)
    reports_energy = rng.random(meters) < ENERGY_REPORTING_SHARE
    household_kwh = _lognormal_clipped(rng, meters, HOUSEHOLD_KWH_PER_DAY)
    commercial_kwh = _lognormal_clipped(rng, meters, COMMERCIAL_KWH_PER_DAY)
    kwh_per_day = np.where(commercial, commercial_kwh, household_kwh)
    solar_peak = np.where(has_solar, rng.uniform(*SOLAR_PEAK_KW, meters) * 1000.0, 0.0)
    noise = rng.uniform(0.08, 0.25, meters)
    voltage_offset = rng.normal(0.0, 0.015, meters).clip(-0.04, 0.04)
    base_pf = np.where(commercial, rng.uniform(0.87, 0.95, meters), rng.uniform(0.93, 0.99, meters))
    return Fleet(
        meter_ids=tuple(meter_id(i) for i in range(meters)),
        profile=commercial.astype(np.int8),
        has_solar=has_solar,
        reports_energy=reports_energy,
        mean_watts=kwh_per_day * 1000.0 / 24.0,
        solar_peak_watts=solar_peak,
        noise=noise,
        voltage_offset=voltage_offset,
        base_power_factor=base_pf,
        nominal_voltage=float(nominal_voltage),
    )


def registry_rows(fleet: Fleet) -> list[tuple[str, str, str, str, str]]:
    nominal = f"{fleet.nominal_voltage:g}"
    return [
        (
            fleet.meter_ids[i],
            fleet.profile_name(i),
            "true" if fleet.has_solar[i] else "false",
            nominal,
            "true" if fleet.reports_energy[i] else "false",
        )
        for i in range(fleet.size)
    ]


def write_meter_registry(lake: Lake, fleet: Fleet) -> Path:
    """Write ``<lake>/reference/meters.csv`` atomically (dbt's meter dimension reads it).

    Rows of meters from earlier runs that this fleet does not have are kept, so the registry
    covers every simulated meter whose events may be in the lake; this fleet's rows win.
    """
    target = Path(lake.reference) / "meters.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    rows = {row[0]: row for row in _read_registry(target)}
    rows.update((row[0], row) for row in registry_rows(fleet))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REGISTRY_HEADER)
    writer.writerows(rows[key] for key in sorted(rows))
    fd, tmp = tempfile.mkstemp(prefix=".meters-", suffix=".csv.tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(buffer.getvalue())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _read_registry(path: Path) -> list[tuple[str, ...]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(header) != REGISTRY_HEADER:
            return []  # an unknown layout is replaced rather than merged
        return [tuple(row) for row in reader if len(row) == len(REGISTRY_HEADER)]
