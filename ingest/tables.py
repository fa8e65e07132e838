"""Schemas of the three Delta tables the ingest job writes: the contract with dbt.

Every table carries the same lineage columns, whatever the source:

  source_name       landing file path, or Kafka topic
  source_partition  null for files, or Kafka partition
  source_offset     0-based line number in the file, or Kafka offset
  source_timestamp  file modification time, or Kafka record timestamp
  ingest_time       when the micro-batch was processed (UTC)
  batch_id          the Structured Streaming micro-batch id

(source_name, source_partition, source_offset) identifies one received event.
"""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

LINEAGE_FIELDS = [
    StructField("source_name", StringType(), False),
    StructField("source_partition", IntegerType(), True),
    StructField("source_offset", LongType(), False),
    StructField("source_timestamp", TimestampType(), True),
    StructField("ingest_time", TimestampType(), False),
    StructField("batch_id", LongType(), False),
]

# Every event as received: its exact bytes, and their UTF-8 text (U+FFFD for an invalid
# sequence; such an event is also quarantined as invalid_utf8).
RAW_SCHEMA = StructType(
    [
        StructField("body", StringType(), True),
        StructField("body_bytes", BinaryType(), True),
        *LINEAGE_FIELDS,
    ]
)

# Typed rows that pass every rule. `voltage` keeps its contract name (renaming is dbt's job);
# `extra_fields` keeps unknown fields as a JSON object string (null when there are none), and the
# contract's pass-through field `sent_at` once validated (ValidationConfig.passthrough_fields):
# it has no column of its own, so lakes written before it stay readable as they are.
VALIDATED_SCHEMA = StructType(
    [
        StructField("event_id", StringType(), True),
        StructField("timestamp", TimestampType(), False),
        StructField("meter_id", StringType(), False),
        StructField("real_power_watts", DoubleType(), False),
        StructField("voltage", DoubleType(), False),
        StructField("power_factor", DoubleType(), False),
        StructField("energy_kwh", DoubleType(), True),
        StructField("current_a", DoubleType(), True),
        StructField("schema_version", IntegerType(), True),
        StructField("extra_fields", StringType(), True),
        *LINEAGE_FIELDS,
    ]
)

# Every event that fails, with its body and at least one reason code
# (not_json, missing_field:<name>, bad_type:<name>, out_of_range:<name>, bad_timestamp,
#  future_timestamp, too_old_timestamp, invalid_utf8, bad_meter_id, too_large, ...). meter_id and event_timestamp are
# best-effort copies (null when they could not be read) for data-quality reporting.
QUARANTINE_SCHEMA = StructType(
    [
        StructField("body", StringType(), True),
        StructField("reasons", ArrayType(StringType(), False), False),
        StructField("meter_id", StringType(), True),
        StructField("event_timestamp", StringType(), True),
        *LINEAGE_FIELDS,
    ]
)
