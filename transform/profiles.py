"""Where dbt finds its profile and the lake: profiles.yml, and ``$SMARTGRID_LAKE`` for one run."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from smartgrid.lake import LAKE_ENV, Lake

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROFILE_EXAMPLE = PROJECT_DIR / "profiles.example.yml"


def profiles_dir() -> str:
    """Where dbt finds profiles.yml: $DBT_PROFILES_DIR, the repository root, else the example."""
    configured = os.environ.get("DBT_PROFILES_DIR")
    if configured:
        return configured
    if (PROJECT_DIR / "profiles.yml").is_file():
        return str(PROJECT_DIR)
    # A clean clone before `make setup`: the example is the profile (it reads only env vars).
    fallback = Path(tempfile.gettempdir()) / "smartgrid-dbt-profiles"
    fallback.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROFILE_EXAMPLE, fallback / "profiles.yml")
    return str(fallback)


@contextmanager
def lake_env(lake: Lake) -> Iterator[None]:
    """The profile and dbt_project.yml read the lake from $SMARTGRID_LAKE; set it for one run."""
    previous = os.environ.get(LAKE_ENV)
    os.environ[LAKE_ENV] = lake.root
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(LAKE_ENV, None)
        else:
            os.environ[LAKE_ENV] = previous
