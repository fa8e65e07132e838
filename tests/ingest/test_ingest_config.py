"""Configuration: contract-derived rules, refused options, Event Hubs Kafka options, secrets.

The Event Hubs tests stop at the options handed to Spark's Kafka source: Event Hubs itself
cannot be reached from here (a later issue runs the Kafka source against a real broker).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from ingest.cli import config_from_args
from ingest.config import IngestConfig
from ingest.rules import ValidationConfig
from ingest.sources import (
    DATABRICKS_PLAIN_LOGIN_MODULE,
    PLAIN_LOGIN_MODULE,
    eventhub_name,
    eventhubs_kafka_options,
)
from pipeline.cli import build_parser, main
from smartgrid import contract
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake
from smartgrid.secrets import Secret

SECRET_KEY = "c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWs="  # pragma: allowlist secret
CONNECTION = (
    "Endpoint=sb://grid-ns.servicebus.windows.net/;SharedAccessKeyName=listen;"
    f"SharedAccessKey={SECRET_KEY};EntityPath=meter-readings"
)


def test_validation_defaults_come_from_the_contract() -> None:
    schema = contract.event_schema()
    rules = ValidationConfig().by_name
    assert set(rules) == set(schema["properties"])
    assert {n for n, r in rules.items() if r.required} == set(schema["required"])
    for name, prop in schema["properties"].items():
        assert rules[name].type == prop["type"]
        assert rules[name].minimum == prop.get("minimum")
        if "maximum" in prop:
            assert rules[name].maximum == prop["maximum"]
        assert rules[name].pattern == prop.get("pattern")
        assert rules[name].max_length == prop.get("maxLength")


def test_validated_table_has_a_column_per_contract_field() -> None:
    from ingest.tables import VALIDATED_SCHEMA

    # ...but the pass-through fields (sent_at), kept in extra_fields as received: no column,
    # so lakes written before the field was in the contract keep their schema.
    passthrough = set(ValidationConfig().passthrough_fields)
    assert passthrough == {"sent_at"}
    assert set(contract.field_names()) - passthrough <= set(VALIDATED_SCHEMA.fieldNames())
    assert not passthrough & set(VALIDATED_SCHEMA.fieldNames())
    assert "extra_fields" in VALIDATED_SCHEMA.fieldNames()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "ftp"}, "--source must be one of"),
        ({"trigger": "once"}, "--trigger must be one of"),
        ({"interval_seconds": 0}, "--interval must be positive"),
        ({"max_files_per_trigger": 0}, "--max-files-per-trigger must be a positive"),
        ({"max_offsets_per_trigger": 10}, "--max-offsets-per-trigger applies to --source kafka"),
        ({"starting_offsets": "latest"}, "--starting-offsets applies to --source kafka"),
        ({"source": "kafka", "topic": "t"}, "needs --kafka-bootstrap"),
        ({"source": "kafka", "kafka_bootstrap": "h:9092"}, "needs --topic"),
        (
            {"source": "kafka", "kafka_bootstrap": "h:9092", "topic": "t", "starting_offsets": "x"},
            "--starting-offsets must be",
        ),
        (
            {
                "source": "kafka",
                "kafka_bootstrap": "h:9092",
                "topic": "t",
                "max_files_per_trigger": 1,
            },
            "--max-files-per-trigger applies to --source local",
        ),
        ({"raw_path": "/x", "validated_path": "/x"}, "must differ"),
    ],
)
def test_bad_ingest_options_are_refused(kwargs, message, tmp_path) -> None:
    with pytest.raises(SmartgridError, match=message):
        IngestConfig(lake=Lake(str(tmp_path)), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_body_bytes": 0}, "--max-body-bytes"),
        ({"max_future_skew_seconds": -1.0}, "--max-future-skew"),
        ({"oldest_timestamp": datetime(2000, 1, 1)}, "--oldest-timestamp"),  # no time zone
    ],
)
def test_bad_validation_options_are_refused(kwargs, message) -> None:
    with pytest.raises(SmartgridError, match=message):
        ValidationConfig(**kwargs)


def test_range_override_is_checked() -> None:
    config = ValidationConfig().with_range("voltage", 90.0, 260.0)
    assert (config.by_name["voltage"].minimum, config.by_name["voltage"].maximum) == (90.0, 260.0)
    with pytest.raises(SmartgridError, match=r"minimum 5\.0 > maximum 1\.0"):
        ValidationConfig().with_range("voltage", 5.0, 1.0)
    with pytest.raises(SmartgridError, match="no field 'volts'"):
        ValidationConfig().with_range("volts", 0.0, 1.0)


@pytest.mark.parametrize(
    ("interval", "skew", "interval_seconds", "skew_seconds"),
    [("5s", "300s", 5.0, 300.0), ("500ms", "0s", 0.5, 0.0), ("2m", "1h", 120.0, 3600.0)],
)
def test_durations_use_the_one_grammar(
    tmp_path, interval: str, skew: str, interval_seconds: float, skew_seconds: float
) -> None:
    """--interval and --max-future-skew read smartgrid.durations' grammar (the producer's too);
    a zero skew is a tolerance of none, a zero interval is refused."""
    args = build_parser().parse_args(
        ["ingest", "--lake", str(tmp_path), "--interval", interval, "--max-future-skew", skew]
    )
    config, validation = config_from_args(args, {})
    assert config.interval_seconds == interval_seconds
    assert validation.max_future_skew_seconds == skew_seconds


@pytest.mark.parametrize(
    ("option", "text"),
    [
        ("--interval", "1.5"),  # no unit
        ("--interval", "10 seconds"),  # a spelled-out unit
        ("--interval", "0s"),  # an interval must be positive
        ("--max-future-skew", "-5s"),
        ("--max-future-skew", "1.5m"),  # whole numbers only: write 90s
    ],
)
def test_durations_outside_the_grammar_are_refused_by_name(
    tmp_path, option: str, text: str
) -> None:
    args = build_parser().parse_args(["ingest", "--lake", str(tmp_path), f"{option}={text}"])
    with pytest.raises(SmartgridError) as err:
        config_from_args(args, {})
    assert option in str(err.value) and repr(text) in str(err.value)


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        ([], {}, datetime(2000, 1, 1, tzinfo=timezone.utc)),
        (["--oldest-timestamp", "2020-06-01"], {}, datetime(2020, 6, 1, tzinfo=timezone.utc)),
        (
            ["--oldest-timestamp", "2020-06-01T02:00:00+02:00"],
            {},
            datetime(2020, 6, 1, tzinfo=timezone.utc),
        ),
        (
            [],
            {"SMARTGRID_OLDEST_TIMESTAMP": "2015-01-01T00:00:00Z"},
            datetime(2015, 1, 1, tzinfo=timezone.utc),
        ),
        (["--oldest-timestamp", "none"], {"SMARTGRID_OLDEST_TIMESTAMP": "2015-01-01"}, None),
    ],
)
def test_oldest_timestamp_option_and_env(tmp_path, argv, env, expected) -> None:
    args = build_parser().parse_args(["ingest", "--lake", str(tmp_path), *argv])
    _, validation = config_from_args(args, env)
    assert validation.oldest_timestamp == expected


@pytest.mark.parametrize("text", ["1900", "yesterday", "2000-13-01", "2000-01-01T00:00:00"])
def test_cli_refuses_a_bad_oldest_timestamp_before_any_work(capsys, tmp_path, text) -> None:
    lake = tmp_path / "lake"
    assert main(["ingest", "--lake", str(lake), f"--oldest-timestamp={text}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --oldest-timestamp") and repr(text) in err[0]
    assert not lake.exists()


def test_defaults_and_trigger(tmp_path) -> None:
    lake = Lake(str(tmp_path))
    config = IngestConfig(lake=lake)
    assert config.raw == lake.raw and config.quarantine == lake.quarantine
    assert config.checkpoint == f"{lake.checkpoints}/ingest/local"
    assert config.spark_trigger == {"availableNow": True}
    continuous = IngestConfig(lake=lake, trigger="continuous", interval_seconds=2.5)
    assert continuous.spark_trigger == {"processingTime": "2500 milliseconds"}
    cloud = IngestConfig(lake=Lake("abfss://lake@acct.dfs.core.windows.net/sg"))
    assert cloud.validated == "abfss://lake@acct.dfs.core.windows.net/sg/validated"


def test_cli_refuses_bad_options_before_any_work(capsys, tmp_path) -> None:
    lake = str(tmp_path / "lake")
    assert main(["ingest", "--lake", lake, "--interval", "soon"]) == 2
    assert "error: --interval" in capsys.readouterr().err
    assert main(["ingest", "--lake", lake, "--max-files-per-trigger", "0"]) == 2
    assert "error: --max-files-per-trigger" in capsys.readouterr().err
    assert not (tmp_path / "lake").exists()  # refused before Spark (or anything) started


# ------------------------------------------------------------------ Event Hubs (Kafka endpoint)


def test_eventhubs_options_open_source_spark() -> None:
    options = eventhubs_kafka_options(
        {"EVENTHUB_NAMESPACE": "grid-ns", "EVENTHUB_CONNECTION_STR": CONNECTION}
    )
    assert options["kafka.bootstrap.servers"] == "grid-ns.servicebus.windows.net:9093"
    assert options["kafka.security.protocol"] == "SASL_SSL"
    assert options["kafka.sasl.mechanism"] == "PLAIN"
    jaas = options["kafka.sasl.jaas.config"]
    assert isinstance(jaas, Secret)
    assert jaas.reveal() == (
        f'{PLAIN_LOGIN_MODULE} required username="$ConnectionString" password="{CONNECTION}";'
    )


def test_eventhubs_options_on_databricks_use_the_shaded_module() -> None:
    env = {
        "EVENTHUB_CONNECTION_STR": CONNECTION,
        "DATABRICKS_RUNTIME_VERSION": "16.4",
    }
    jaas = eventhubs_kafka_options(env)["kafka.sasl.jaas.config"].reveal()
    assert jaas.startswith(f"{DATABRICKS_PLAIN_LOGIN_MODULE} required ")
    assert DATABRICKS_PLAIN_LOGIN_MODULE == "kafkashaded." + PLAIN_LOGIN_MODULE
    # Namespace read from the connection string's Endpoint when EVENTHUB_NAMESPACE is unset.
    assert eventhubs_kafka_options(env)["kafka.bootstrap.servers"] == (
        "grid-ns.servicebus.windows.net:9093"
    )
    forced = eventhubs_kafka_options({"EVENTHUB_CONNECTION_STR": CONNECTION}, databricks=False)
    assert forced["kafka.sasl.jaas.config"].reveal().startswith(PLAIN_LOGIN_MODULE)


def test_eventhubs_namespace_forms_and_topic() -> None:
    fqdn = {
        "EVENTHUB_NAMESPACE": "other.servicebus.windows.net",
        "EVENTHUB_CONNECTION_STR": CONNECTION,
    }
    assert eventhubs_kafka_options(fqdn)["kafka.bootstrap.servers"] == (
        "other.servicebus.windows.net:9093"
    )
    assert eventhub_name({"EVENTHUB_CONNECTION_STR": CONNECTION}) == "meter-readings"
    assert eventhub_name({"EVENTHUB_NAME": "hub2", "EVENTHUB_CONNECTION_STR": CONNECTION}) == "hub2"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "EVENTHUB_CONNECTION_STR is not set"),
        ({"EVENTHUB_CONNECTION_STR": f"password={SECRET_KEY}"}, "does not look like"),
        (
            {"EVENTHUB_CONNECTION_STR": f'SharedAccessKey="{SECRET_KEY}"'},
            "contains a quote",
        ),
        ({"EVENTHUB_CONNECTION_STR": f"SharedAccessKey={SECRET_KEY}"}, "set EVENTHUB_NAMESPACE"),
    ],
)
def test_eventhubs_errors_name_the_problem_not_the_secret(env, message) -> None:
    with pytest.raises(SmartgridError, match=message) as err:
        eventhubs_kafka_options(env)
    assert SECRET_KEY not in str(err.value)


def test_secret_never_shows_in_config_repr_str_or_logs(monkeypatch, caplog) -> None:
    monkeypatch.setenv("EVENTHUB_CONNECTION_STR", CONNECTION)
    monkeypatch.delenv("EVENTHUB_NAMESPACE", raising=False)
    args = build_parser().parse_args(["ingest", "--source", "kafka", "--lake", "/tmp/x"])
    config, _ = config_from_args(args)
    assert config.kafka_bootstrap == "grid-ns.servicebus.windows.net:9093"
    assert config.topic == "meter-readings"
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("ingest").info("config: %s %r", config, config)
        logging.getLogger("ingest").info("options: %s", dict(config.kafka_options))
    for text in (repr(config), str(config), caplog.text, str(dict(config.kafka_options))):
        assert SECRET_KEY not in text
        assert "Secret('***')" in text or "***" in text
    # ... while Spark gets the real value.
    assert SECRET_KEY in config.kafka_reader_options()["kafka.sasl.jaas.config"]
    assert config.kafka_reader_options()["startingOffsets"] == "earliest"
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(config)
