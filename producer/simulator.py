"""The pure, seeded simulator: readings of a fleet over a simulated clock, block by block.

Generation is vectorised with numpy over blocks of whole intervals (about ``BLOCK_EVENTS``
readings); the block size depends only on the fleet size, so the output depends only on the
seed and options, never on the sink, batch size or pacing. Readings come out interval by
interval, meters in id order within an interval.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from producer.events import EventBatch
from producer.fleet import HOUSEHOLD, PROFILES, Fleet
from producer.line_format import LineFormatter
from producer.load_shape import clock_parts, day_uniform, load_shape, solar_shape

BLOCK_EVENTS = 16_384

# Households switch on a kettle, oven or heater now and then: short spikes on top of the shape.
SPIKE_PROBABILITY = 0.02
SPIKE_WATTS = (1000.0, 2500.0)
_SPIKE_MEAN = SPIKE_PROBABILITY * sum(SPIKE_WATTS) / 2
# Voltage stays inside EN 50160's +-10% band unless a fault says otherwise.
VOLTAGE_LIMIT = 0.08
POWER_FACTOR_RANGE = (0.85, 1.0)


@dataclass(frozen=True)
class Block:
    """Readings of consecutive intervals ``first_step`` .. ``first_step + steps - 1``."""

    first_step: int
    steps: int
    batch: EventBatch


class Simulation:
    def __init__(
        self, fleet: Fleet, *, start_ms: int, interval_ms: int, steps: int, seed: int
    ) -> None:
        if interval_ms <= 0 or steps < 0:
            raise ValueError("interval_ms must be positive and steps not negative")
        self.fleet = fleet
        self.start_ms = start_ms
        self.interval_ms = interval_ms
        self.steps = steps
        self.seed = seed
        self.steps_per_block = max(1, BLOCK_EVENTS // max(1, fleet.size))
        household = np.array([PROFILES[p] == HOUSEHOLD for p in fleet.profile])
        self._spike_watts = np.where(household, 1.0, 0.0)
        # The base load leaves room for the spikes so the daily mean stays calibrated.
        self._base_watts = fleet.mean_watts - np.where(household, _SPIKE_MEAN, 0.0)
        self._meter_index = np.arange(fleet.size)
        self._formatter = LineFormatter(fleet.meter_ids, fleet.reports_energy)

    @property
    def total_events(self) -> int:
        return self.steps * self.fleet.size

    def step_ms(self, step: int) -> int:
        return self.start_ms + step * self.interval_ms

    def block(self, first: int) -> Block:
        """The block starting at step ``first`` (a multiple of ``steps_per_block``).

        Each block has its own random stream, derived from the seed and the block's position,
        so blocks can be made in any order, or in parallel, with the same result.
        """
        steps = min(self.steps_per_block, self.steps - first)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x5EED, first]))
        return Block(first, steps, self._readings(rng, first, steps))

    def blocks(self, workers: int = 1) -> Iterator[Block]:
        """Blocks in order. With ``workers`` > 1, the next blocks are made on threads while
        the current one is sent: numpy and Arrow release the GIL in their kernels."""
        firsts = range(0, self.steps, self.steps_per_block)
        if workers <= 1 or len(firsts) < 2:
            for first in firsts:
                yield self.block(first)
            return
        with ThreadPoolExecutor(workers, thread_name_prefix="simulator") as pool:
            ahead: deque[Future[Block]] = deque()
            for first in firsts:
                ahead.append(pool.submit(self.block, first))
                if len(ahead) > workers:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()

    def _readings(self, rng: np.random.Generator, first: int, steps: int) -> EventBatch:
        fleet = self.fleet
        n = fleet.size
        if n == 0:
            return EventBatch.empty()
        ms = self.start_ms + (first + np.arange(steps, dtype=np.int64)) * self.interval_ms
        hour, weekend, day = clock_parts(ms // 1000)
        hour, weekend = hour[:, None], weekend[:, None]

        shape = load_shape(fleet.profile.astype(np.intp), hour, weekend)
        # float32 draws: plenty for noise, and about twice as fast to make.
        z = rng.standard_normal((3, steps, n), dtype=np.float32)
        u = rng.random((2, steps, n), dtype=np.float32)
        sigma = fleet.noise[None, :]
        load = self._base_watts[None, :] * shape * np.exp(sigma * z[0] - 0.5 * sigma * sigma)
        spikes = (u[0] < SPIKE_PROBABILITY) * (
            SPIKE_WATTS[0] + (SPIKE_WATTS[1] - SPIKE_WATTS[0]) * u[1]
        )
        load += spikes * self._spike_watts[None, :]
        if fleet.has_solar.any():
            # Cloud cover varies by day and meter: 25% to 100% of clear-sky output.
            clear = 0.25 + 0.75 * day_uniform(self.seed, self._meter_index[None, :], day[:, None])
            load -= fleet.solar_peak_watts[None, :] * solar_shape(hour) * clear
        power = np.round(load, 1)

        nominal = fleet.nominal_voltage
        # Heavier load pulls the supply voltage down a little; export pushes it up.
        relative = fleet.voltage_offset[None, :] + 0.004 * z[1] - 0.01 * (power / 5000.0)
        voltage = np.round(nominal * (1.0 + np.clip(relative, -VOLTAGE_LIMIT, VOLTAGE_LIMIT)), 1)
        pf = np.round(
            np.clip(fleet.base_power_factor[None, :] + 0.01 * z[2], *POWER_FACTOR_RANGE), 3
        )
        current = np.round(np.abs(power) / (voltage * pf), 3)
        energy = np.round(power * (self.interval_ms / 3.6e9), 6)

        return self._formatter.format(ms, power, voltage, pf, current, energy)
