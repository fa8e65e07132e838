"""Rows of a DataFrame as dicts, timestamps read as UTC text so the Python process' zone does not matter."""

from __future__ import annotations

import datetime as dt


def utc_rows(df) -> list[dict]:
    columns = [
        f"cast(`{f.name}` as string) as `{f.name}`"
        if f.dataType.simpleString() == "timestamp"
        else f"`{f.name}`"
        for f in df.schema.fields
    ]
    rows = []
    for row in df.selectExpr(*columns).collect():
        record = row.asDict()
        for f in df.schema.fields:
            if f.dataType.simpleString() == "timestamp" and record[f.name] is not None:
                record[f.name] = dt.datetime.fromisoformat(record[f.name])
        rows.append(record)
    return rows
