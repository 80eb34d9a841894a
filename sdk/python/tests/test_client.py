"""Client and AsyncClient against the real binary: recording one event and
batches, the agent-audit shape, errors, configuration."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

import flightrec


def test_log_records_the_agent_audit_shape_as_a_canonical_event(flightrec_server: Any) -> None:
    with flightrec_server.client() as client:
        receipt = client.log(
            "tool_call",
            prompt={"cmd": "ls"},
            response="README.md",
            agent_id="coder",
            trace_id="run-log",
            span_id="s2",
            parent_span_id="s1",
            metadata={"model": "m1"},
            tool="bash",
        )
        assert uuid.UUID(receipt["id"]).version == 7, "the id is a client-side UUIDv7"
        assert receipt["seq"] >= 0 and len(receipt["leaf_hash"]) == 64
        event = client.events.get(receipt["id"])
    assert event["type"] == "tool_call"
    assert event["input"] == {"cmd": "ls"}
    assert event["output"] == "README.md"
    assert event["agent_id"] == "coder"
    assert event["run_id"] == "run-log"
    assert (event["span_id"], event["parent_span_id"]) == ("s2", "s1")
    assert event["metadata"] == {"model": "m1"}
    assert event["tool"] == "bash"


def test_record_keeps_a_given_id_and_a_retry_is_recorded_once(flightrec_server: Any) -> None:
    with flightrec_server.client() as client:
        first = client.record({"id": "evt-1", "type": "start", "run_id": "r"})
        again = client.record({"id": "evt-1", "type": "start", "run_id": "r"})
        assert first == again, "the same id answers the first receipt"
        assert [e["id"] for e in client.events.search(run_id="r")] == ["evt-1"]


def test_record_batch_answers_receipts_in_order_with_consecutive_seqs(flightrec_server: Any) -> None:
    events = [{"type": "thinking", "run_id": "batch", "content": f"step {i}"} for i in range(25)]
    with flightrec_server.client() as client:
        receipts = client.record_batch(events)
        assert len(receipts) == 25
        seqs = [r["seq"] for r in receipts]
        assert seqs == list(range(seqs[0], seqs[0] + 25))
        stored = client.runs.get("batch", include=["audit_log"])["audit_log"]
    assert [e["content"] for e in stored] == [f"step {i}" for i in range(25)]
    assert [e["id"] for e in stored] == [r["id"] for r in receipts]
    assert "id" not in events[0], "the caller's dicts are not changed"


def test_an_invalid_batch_records_nothing_and_names_the_event(flightrec_server: Any) -> None:
    with flightrec_server.client() as client:
        with pytest.raises(flightrec.InvalidRequestError) as caught:
            client.record_batch([{"type": "start", "run_id": "bad"}, {"type": "x", "status": "great", "run_id": "bad"}])
        assert caught.value.status == 400 and caught.value.code == "invalid_event"
        assert caught.value.details[0]["index"] == 1 and caught.value.details[0]["field"] == "status"
        assert list(client.events.search(run_id="bad")) == []


def test_a_bad_key_is_a_clear_error_that_never_shows_the_key(flightrec_server: Any) -> None:
    secret = "fr_this_key_does_not_exist_0123456789abcdef"
    client = flightrec.Client(flightrec_server.url, secret)
    with pytest.raises(flightrec.AuthenticationError) as caught:
        client.record({"type": "start"})
    assert caught.value.status == 401
    shown = str(caught.value) + repr(caught.value) + repr(client) + repr(client.settings)
    assert secret not in shown
    assert "unknown API key" in str(caught.value)
    client.close()


def test_unreachable_server_is_a_connection_error_without_the_key(tmp_path: Any) -> None:
    secret = "fr_unreachable_key_0123456789abcdef0123"
    client = flightrec.Client("http://127.0.0.1:9", secret, retry=flightrec.RetryPolicy(max_attempts=2, initial_delay=0.01))
    with pytest.raises(flightrec.ConnectionError) as caught:
        client.record({"type": "start"})
    assert "127.0.0.1:9" in str(caught.value) and secret not in str(caught.value)


def test_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLIGHTREC_API_KEY", raising=False)
    monkeypatch.delenv("FLIGHTREC_SERVER", raising=False)
    with pytest.raises(flightrec.ConfigurationError, match="FLIGHTREC_API_KEY"):
        flightrec.Client("http://127.0.0.1:1")
    with pytest.raises(flightrec.ConfigurationError, match="http"):
        flightrec.Client("ftp://example.com", "fr_x")
    with pytest.raises(flightrec.ConfigurationError) as caught:
        flightrec.Client("http://user:secretpw@example.com", "fr_x")
    assert "secretpw" not in str(caught.value)
    with pytest.raises(ValueError, match="1 to 1000"):
        flightrec.Client("http://127.0.0.1:1", "fr_x").record_batch([])
    with pytest.raises(ValueError, match="set by the server"):
        flightrec.Client("http://127.0.0.1:1", "fr_x").record({"type": "x", "seq": 3})


def test_client_reads_the_environment(flightrec_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLIGHTREC_SERVER", flightrec_server.url)
    monkeypatch.setenv("FLIGHTREC_API_KEY", flightrec_server.api_key)
    with flightrec.Client() as client:
        assert client.server == flightrec_server.url
        assert client.health()
        client.log("start", trace_id="env")
        assert client.runs.get("env")["event_count"] == 1


def test_async_client_records_and_reads(flightrec_server: Any) -> None:
    async def main() -> None:
        async with flightrec_server.async_client() as client:
            one = await client.log("user_input", prompt="hello", trace_id="async-run")
            many = await client.record_batch([{"type": "thinking", "run_id": "async-run", "content": str(i)} for i in range(3)])
            assert [r["seq"] for r in many] == [one["seq"] + 1, one["seq"] + 2, one["seq"] + 3]
            run = await client.runs.get("async-run", include=["audit_log"])
            assert [e["type"] for e in run["audit_log"]] == ["user_input", "thinking", "thinking", "thinking"]
            found = [e["id"] async for e in client.events.search(run_id="async-run", page_size=2)]
            assert len(found) == 4
            with pytest.raises(flightrec.NotFoundError):
                await client.runs.get("no-such-run")

    asyncio.run(main())
