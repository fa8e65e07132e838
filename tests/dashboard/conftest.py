"""Fixtures of the dashboard tests: hand-made data (no Spark) and an empty dashboard."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sample_data import make_data

from dashboard.model import DashboardData


@pytest.fixture
def data() -> DashboardData:
    return make_data()


@pytest.fixture
def empty_data() -> DashboardData:
    return DashboardData(
        generated_at=datetime(2026, 1, 12, 8, 30, tzinfo=timezone.utc), lake="lake", top_n=10
    )
