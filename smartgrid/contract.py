"""The event contract: loads the JSON Schema that defines a meter reading."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

SCHEMA_VERSION = 1


@cache
def event_schema() -> dict[str, Any]:
    return json.loads(resources.files("smartgrid").joinpath("event.schema.json").read_text("utf-8"))


def required_fields() -> tuple[str, ...]:
    return tuple(event_schema()["required"])


def field_names() -> tuple[str, ...]:
    return tuple(event_schema()["properties"])
