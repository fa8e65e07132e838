"""Escaping and number formatting of the page's server-rendered text (app.js formats the same way).

Every piece of text goes through ``esc`` (meter ids come from the data, not from us).
"""

from __future__ import annotations

import math
from html import escape


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def fmt(value: float | None, digits: int = 0, unit: str = "") -> str:
    """``1234.5 -> '1,235'``; None -> an en dash; the unit follows with a thin space."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\u2013"
    text = f"{value:,.{digits}f}"
    return f"{text}\u202f{unit}" if unit else text


def fmt_pct(share: float | None, digits: int = 1) -> str:
    """``0.0123 -> '1.2 %'``; a share too small to show at ``digits`` reads '<0.01 %', not 0."""
    if share is None:
        return "\u2013"
    smallest = 10.0**-digits
    if 0 < abs(share * 100) < smallest:
        return f"<{smallest:.{digits}f}\u202f%"
    return f"{share * 100:.{digits}f}\u202f%"


def fmt_energy(kwh: float | None) -> str:
    """kWh with a precision that suits its size (MWh from 10,000 kWh)."""
    if kwh is None:
        return "\u2013"
    if abs(kwh) >= 10_000:
        return fmt(kwh / 1000, 1, "MWh")
    return fmt(kwh, 1 if abs(kwh) < 1000 else 0, "kWh")
