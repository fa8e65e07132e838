"""The eventhubs sink, tested with a fake at the SDK's client boundary.

Azure Event Hubs cannot be reached from here (no account, no AMQP endpoint), so these tests
replace ``EventHubProducerClient`` (and only it) with ``FakeProducerClient``. The batches are
the SDK's REAL ``EventDataBatch`` (``EventDataBatch(max_size_in_bytes=..., partition_key=...)``),
so "full" means what the SDK says; sending, retry settings and shutdown are observed on the fake.
"""

from __future__ import annotations

import base64
import io
import logging
import os
from datetime import timedelta

import azure.eventhub
import orjson
import pytest
from azure.eventhub import EventDataBatch
from azure.eventhub.exceptions import EventHubError
from producer_helpers import options

from producer.events import EventBatch
from producer.pacing import ManualClock, Pacing
from producer.run import produce
from producer.sinks import make_sink
from producer.sinks.eventhubs import EventHubsConfig, EventHubsSink, create_producer_client
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

# Built at run time so no key-shaped string is ever committed.
SECRET = base64.b64encode(os.urandom(32)).decode()
CONNECTION = (
    "Endpoint=sb://meters.servicebus.windows.net/;SharedAccessKeyName=send;"
    f"SharedAccessKey={SECRET};EntityPath=readings"
)


class FakeProducerClient:
    """Stands in for EventHubProducerClient; batches are the SDK's real EventDataBatch."""

    def __init__(self, *args, max_size=2048, fail_sends=0, **kwargs) -> None:
        self.args, self.kwargs = args, kwargs
        self.max_size = max_size
        self.fail_sends = fail_sends
        self.sent: list[tuple[str, list[dict]]] = []
        self.closed = False

    @classmethod
    def from_connection_string(cls, conn_str, **kwargs):
        return cls(conn_str, **kwargs)

    def create_batch(self, *, partition_key=None, max_size_in_bytes=None, **_):
        return EventDataBatch(
            max_size_in_bytes=max_size_in_bytes or self.max_size, partition_key=partition_key
        )

    def send_batch(self, batch, **_):
        assert not self.closed
        if self.fail_sends:
            self.fail_sends -= 1
            raise EventHubError(f"ServerBusy on {CONNECTION}")
        events = [orjson.loads(event.body_as_str()) for event in batch._internal_events]
        self.sent.append((batch._partition_key, events))

    def close(self):
        self.closed = True


def config(**overrides) -> EventHubsConfig:
    return EventHubsConfig.from_env({"EVENTHUB_CONNECTION_STR": CONNECTION}, **overrides)


def readings(meters: int, steps: int) -> EventBatch:
    return EventBatch.from_events(
        [
            {"timestamp": f"2025-01-01T00:{s:02d}:00.000Z", "meter_id": f"MTR-{m:06d}", "seq": s}
            for s in range(steps)
            for m in range(1, meters + 1)
        ]
    )


def test_batches_fill_until_full_one_partition_key_per_meter_in_order() -> None:
    client = FakeProducerClient(max_size=1024)
    sink = EventHubsSink(config(), client_factory=lambda c: client)
    sink.send(readings(meters=3, steps=40))
    assert client.sent  # full batches went out before the end
    sink.close()
    assert client.closed and sink.events_sent == 120
    by_key: dict[str, list[int]] = {}
    for key, events in client.sent:
        assert {e["meter_id"] for e in events} == {key}  # partition_key = meter_id
        by_key.setdefault(key, []).extend(e["seq"] for e in events)
    assert by_key == {f"MTR-{m:06d}": list(range(40)) for m in (1, 2, 3)}  # each meter in order
    sizes = [len(events) for _, events in client.sent]
    full = [n for n in sizes if n > 1]
    assert max(full) > 1 and len(client.sent) > 3  # several batches per key, filled first


def test_many_meters_do_not_hold_unbounded_memory() -> None:
    client = FakeProducerClient(max_size=1_000_000)
    sink = EventHubsSink(config(max_pending_events=50), client_factory=lambda c: client)
    for step in range(10):  # 20 meters, one reading each per step: no batch ever gets full
        sink.send(
            EventBatch.from_events([{"meter_id": f"MTR-{m:06d}", "seq": step} for m in range(20)])
        )
        assert sink._pending < 50
    assert len(client.sent) >= 20 * 3  # sent before close, although no batch was full
    sink.close()
    by_key: dict[str, list[int]] = {}
    for key, events in client.sent:
        assert {e["meter_id"] for e in events} == {key}
        by_key.setdefault(key, []).extend(e["seq"] for e in events)
    assert by_key == {f"MTR-{m:06d}": list(range(10)) for m in range(20)}  # order kept


def test_config_comes_from_the_environment_and_hides_the_connection_string() -> None:
    cfg = config()
    assert cfg.eventhub_name == "readings"  # from EntityPath when EVENTHUB_NAME is absent
    assert SECRET not in repr(cfg) and SECRET not in cfg.redact(f"boom {CONNECTION}")
    named = EventHubsConfig.from_env(
        {
            "EVENTHUB_FULLY_QUALIFIED_NAMESPACE": "meters.servicebus.windows.net",
            "EVENTHUB_NAME": "r",
        }
    )
    assert named.connection_str is None and named.eventhub_name == "r"
    with pytest.raises(SmartgridError, match="EVENTHUB_CONNECTION_STR"):
        make_sink("eventhubs", Lake("/tmp/unused"), environ={})
    with pytest.raises(SmartgridError, match="EVENTHUB_NAME"):
        EventHubsConfig.from_env({"EVENTHUB_FULLY_QUALIFIED_NAMESPACE": "x.servicebus.windows.net"})


def test_retry_settings_reach_the_sdk_client(monkeypatch) -> None:
    monkeypatch.setattr(azure.eventhub, "EventHubProducerClient", FakeProducerClient)
    client = create_producer_client(
        config(retry_total=7, retry_backoff_factor=0.1, retry_mode="fixed")
    )
    assert client.args == (CONNECTION,)
    assert client.kwargs == {
        "eventhub_name": "readings",
        "retry_total": 7,
        "retry_backoff_factor": 0.1,
        "retry_backoff_max": 120.0,
        "retry_mode": "fixed",
    }


def test_a_send_that_fails_after_retries_is_an_error_without_the_secret(caplog, capsys) -> None:
    caplog.set_level(logging.DEBUG)
    client = FakeProducerClient(fail_sends=1)
    sink = EventHubsSink(config(), client_factory=lambda c: client)
    sink.send(readings(meters=2, steps=3))
    with pytest.raises(SmartgridError) as err:
        sink.close()
    message = str(err.value)
    assert "did not accept" in message and "ServerBusy" in message
    assert SECRET not in message and err.value.__cause__ is None
    assert client.closed  # closed even though the flush failed
    assert sink.events_sent == 3  # the other meter's batch went out; the failed one is not counted
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err + caplog.text


def test_ctrl_c_flushes_everything_accepted(tmp_path, monkeypatch) -> None:
    """An interrupt mid-run stops generation; what the sink accepted is still sent on close."""
    client = FakeProducerClient(max_size=1_000_000)
    sink = EventHubsSink(config(), client_factory=lambda c: client)
    real_send = sink.send
    calls = {"n": 0}

    def send_then_interrupt(batch):
        real_send(batch)
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(sink, "send", send_then_interrupt)
    # Paced by rate so the run is cut into several sends (4 meters x 8 intervals, 2 per chunk).
    opts = options(meters=4, duration=timedelta(hours=2), pacing=Pacing(rate=40.0))
    err = io.StringIO()
    summary = produce(
        opts, Lake.resolve(str(tmp_path / "lake")), sink, clock=ManualClock(), stderr=err
    )
    assert summary.stopped == "interrupted"
    delivered = sum(len(events) for _, events in client.sent)
    assert delivered == summary.events_sent == 6 and client.closed
    assert SECRET not in err.getvalue()
