"""How load follows the clock: daily shapes per profile and day type, and rooftop solar output.

Shapes are relative to a meter's weekly mean (the weekly average of each profile is 1), given at
each whole hour and interpolated linearly in between. The household shape follows the typical
daily curve of public data sets (UCI household power, Low Carbon London): low overnight base
load, a morning peak around 6-9 h, the highest peak in the evening around 17-22 h; weekends
flatter with a later morning. The simulated clock is UTC and used as the meters' local time.
"""

from __future__ import annotations

import numpy as np

# fmt: off
_HOUSEHOLD_WEEKDAY = [0.45, 0.40, 0.38, 0.37, 0.38, 0.45, 0.85, 1.25, 1.20, 0.95, 0.80, 0.78,
                      0.82, 0.78, 0.75, 0.80, 0.95, 1.35, 1.75, 1.85, 1.70, 1.45, 1.05, 0.70]
_HOUSEHOLD_WEEKEND = [0.55, 0.48, 0.42, 0.40, 0.40, 0.42, 0.50, 0.65, 0.95, 1.20, 1.25, 1.15,
                      1.15, 1.05, 0.95, 0.95, 1.05, 1.25, 1.50, 1.60, 1.50, 1.35, 1.10, 0.80]
_COMMERCIAL_WEEKDAY = [0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.40, 0.60, 1.30, 1.60, 1.60, 1.60,
                       1.55, 1.60, 1.60, 1.60, 1.55, 1.30, 0.80, 0.45, 0.40, 0.40, 0.35, 0.35]
_COMMERCIAL_WEEKEND = [0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.40, 0.50, 0.60, 0.65, 0.65,
                       0.65, 0.60, 0.60, 0.55, 0.50, 0.45, 0.40, 0.35, 0.35, 0.35, 0.35, 0.35]
# fmt: on


def _normalised(weekday: list[float], weekend: list[float]) -> np.ndarray:
    """Shape table [day type (0 weekday, 1 weekend), hour 0..24] with a weekly mean of 1."""
    table = np.array([weekday + weekday[:1], weekend + weekend[:1]], dtype=np.float64)
    weekly_mean = (5 * np.mean(weekday) + 2 * np.mean(weekend)) / 7
    return table / weekly_mean


# [profile, day type, hour 0..24] (hour 24 repeats hour 0 for interpolation)
SHAPES = np.stack(
    [
        _normalised(_HOUSEHOLD_WEEKDAY, _HOUSEHOLD_WEEKEND),
        _normalised(_COMMERCIAL_WEEKDAY, _COMMERCIAL_WEEKEND),
    ]
)

SUNRISE_HOUR, SUNSET_HOUR = 6.0, 18.0


def clock_parts(epoch_seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hour of day as a float, weekend flag as 0/1, day number since the epoch)."""
    days = np.floor_divide(epoch_seconds, 86400)
    hour = (epoch_seconds - days * 86400) / 3600.0
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    return hour, (weekday >= 5).astype(np.intp), days.astype(np.int64)


def load_shape(profile: np.ndarray, hour: np.ndarray, weekend: np.ndarray) -> np.ndarray:
    """Relative load for each (step, meter): broadcast [steps, 1] clock against [meters] profile."""
    h0 = np.floor(hour).astype(np.intp)
    frac = hour - h0
    low = SHAPES[profile[None, :], weekend, h0]
    high = SHAPES[profile[None, :], weekend, h0 + 1]
    return low + (high - low) * frac


def solar_shape(hour: np.ndarray) -> np.ndarray:
    """Clear-sky output relative to noon: a bell between sunrise and sunset, 0 at night."""
    x = np.clip((hour - SUNRISE_HOUR) / (SUNSET_HOUR - SUNRISE_HOUR), 0.0, 1.0)
    return np.sin(np.pi * x) ** 1.5


def day_uniform(seed: int, meter_index: np.ndarray, day: np.ndarray) -> np.ndarray:
    """A uniform [0, 1) value per (meter, day), the same whichever block asks (SplitMix64)."""
    with np.errstate(over="ignore"):
        z = (
            np.uint64(seed & 0xFFFFFFFF) * np.uint64(0x9E3779B97F4A7C15)
            + meter_index.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
            + day.astype(np.uint64) * np.uint64(0x94D049BB133111EB)
        )
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)
