"""Issue 19, point 6: raw keeps the exact bytes received; a body that is not UTF-8 is quarantined.

Real Spark and Delta: landing files holding invalid UTF-8 (a lone 0xFF, a Latin-1 "é", a
truncated multi-byte sequence) next to valid multi-byte UTF-8.
"""

from __future__ import annotations

import json
from pathlib import Path

from ingest_helpers import body, make_event
from pyspark.sql.types import StringType, StructField, StructType

from ingest.config import IngestConfig
from ingest.job import run_ingest
from ingest.tables import LINEAGE_FIELDS, RAW_SCHEMA


def _text(event: dict) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def _land(landing: Path, name: str, lines: list[bytes]) -> None:
    landing.mkdir(parents=True, exist_ok=True)
    tmp = landing / f".{name}.tmp"
    tmp.write_bytes(b"".join(line + b"\n" for line in lines))
    tmp.rename(landing / name)


def test_raw_keeps_the_exact_bytes_and_invalid_utf8_is_quarantined(spark, lake) -> None:
    valid = body(make_event(1)).encode()
    accents = _text({**make_event(2), "site": "Zürich €"}).encode("utf-8")
    lone_ff = body(make_event(3, meter_id="MTR-00000X")).encode().replace(b"X", b"\xff")
    latin1 = _text({**make_event(4), "site": "Orléans"}).encode("latin-1")
    truncated = (
        _text({**make_event(5), "site": "€"}).encode("utf-8").replace(b"\xe2\x82\xac", b"\xe2\x82")
    )
    lines = [valid, accents, lone_ff, latin1, truncated]
    _land(Path(lake.landing), "a.jsonl", lines)

    summary = run_ingest(IngestConfig(lake=lake), spark=spark)
    assert (summary.raw, summary.validated, summary.quarantined) == (5, 2, 3)
    assert summary.reasons.get("invalid_utf8") == 3

    raw = spark.read.format("delta").load(lake.raw)
    assert raw.schema.simpleString() == RAW_SCHEMA.simpleString()
    rows = {r.source_offset: r for r in raw.collect()}
    assert [bytes(rows[i].body_bytes) for i in range(5)] == lines
    assert rows[1].body == accents.decode("utf-8")
    assert rows[3].body == latin1.decode("utf-8", errors="replace")
    quarantine = spark.read.format("delta").load(lake.quarantine).collect()
    assert {r.source_offset: "invalid_utf8" in r.reasons for r in quarantine} == {
        2: True,
        3: True,
        4: True,
    }


def test_a_raw_table_from_before_body_bytes_gets_the_column(spark, lake) -> None:
    """An existing lake keeps working: the column is added, the earlier rows hold null."""
    old_schema = StructType([StructField("body", StringType(), True), *LINEAGE_FIELDS])
    spark.createDataFrame([], old_schema).write.format("delta").save(lake.raw)
    _land(Path(lake.landing), "a.jsonl", [body(make_event(1)).encode()])
    summary = run_ingest(IngestConfig(lake=lake), spark=spark)
    assert summary.raw == 1
    raw = spark.read.format("delta").load(lake.raw)
    assert set(raw.columns) == set(RAW_SCHEMA.fieldNames())
    assert bytes(raw.collect()[0].body_bytes) == body(make_event(1)).encode()
