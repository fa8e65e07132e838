"""Secrets held in memory: a string that never shows itself in repr, str, logs or pickles."""

from __future__ import annotations

import hmac
from typing import Any


class Secret:
    """A string that never shows itself in repr/str/logs; ``reveal()`` hands it to Spark only."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(
            self._value.encode(), other._value.encode()
        )

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:  # refuse to be pickled to disk by accident
        raise TypeError("a Secret is not picklable")


def reveal(value: str | Secret) -> str:
    return value.reveal() if isinstance(value, Secret) else value
