"""The background Recorder against the real binary: batching, flushing,
retries through a server answering 503, a server killed and restarted,
refused events, a full queue, and the flush at interpreter exit."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from typing import Any, List

import pytest

import flightrec


def _server_ids(client: flightrec.Client, run_id: str) -> List[str]:
    return [e["id"] for e in client.runs.audit_log(run_id)]


def test_recorder_batches_and_flush_makes_events_durable(flightrec_server: Any) -> None:
    client = flightrec_server.client()
    with flightrec.Recorder(client, batch_size=50, flush_interval=10) as recorder:
        ids = [recorder.log("thinking", trace_id="rec", content=f"step {i}") for i in range(120)]
        ids.append(recorder.record({"type": "complete", "run_id": "rec"}))
        report = recorder.flush()
        assert report.sent == 121 and report.complete
        assert recorder.stats().buffered == 0
    assert _server_ids(client, "rec") == ids, "in order, each once"
    assert all(uuid.UUID(i).version == 7 for i in ids)
    event = client.events.get(ids[0])
    assert event["content"] == "step 0" and event["time"] < event["received_at"], "time is when log() was called"
    assert client.runs.get("rec")["status"] == "completed"


def test_recorder_sends_by_interval_without_a_flush(flightrec_server: Any) -> None:
    client = flightrec_server.client()
    recorder = flightrec.Recorder(client, batch_size=1000, flush_interval=0.1)
    recorder.log("start", trace_id="timed")
    deadline = time.monotonic() + 5
    while not list(client.events.search(run_id="timed")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert time.monotonic() < deadline, "sent within the interval, no flush needed"
    assert recorder.close().complete


def test_recorder_retries_through_503_honouring_retry_after(flightrec_server: Any, fault_proxy: Any) -> None:
    client = flightrec.Client(fault_proxy.url, flightrec_server.api_key)
    fault_proxy.fail_next = 3
    fault_proxy.retry_after = "1"
    recorder = flightrec.Recorder(client, batch_size=100, retry=flightrec.RetryPolicy(max_attempts=6, initial_delay=0.01, max_delay=0.05))
    ids = [recorder.log("tool_call", trace_id="flaky", tool="t", prompt=i) for i in range(250)]
    report = recorder.close(timeout=30)
    assert report.complete and report.sent == 250, report
    seen = [s for s in fault_proxy.seen if s[1] == "POST"]
    failures = [i for i, s in enumerate(seen) if s[3] == 503]
    assert len(failures) == 3
    for i in failures:
        assert seen[i + 1][0] - seen[i][0] >= 0.95, "Retry-After: 1 was honoured over the shorter backoff"
    stored = _server_ids(flightrec_server.client(), "flaky")
    assert sorted(stored) == sorted(ids) and len(stored) == len(set(stored))


def test_recorder_retries_cut_connections_and_never_duplicates(flightrec_server: Any, fault_proxy: Any) -> None:
    client = flightrec.Client(fault_proxy.url, flightrec_server.api_key)
    fault_proxy.cut_next = 2
    with flightrec.Recorder(client, batch_size=20, retry=flightrec.RetryPolicy(initial_delay=0.01)) as recorder:
        ids = [recorder.log("thinking", trace_id="cut", content=str(i)) for i in range(60)]
    assert sum(1 for s in fault_proxy.seen if s[3] == "cut") == 2
    stored = _server_ids(flightrec_server.client(), "cut")
    assert stored == ids


def test_server_killed_and_restarted_loses_nothing_acknowledged_and_duplicates_nothing(flightrec_server: Any) -> None:
    client = flightrec_server.client()
    recorder = flightrec.Recorder(
        client, batch_size=25, flush_interval=0.02, retry=flightrec.RetryPolicy(max_attempts=50, initial_delay=0.05, max_delay=0.3)
    )
    ids: List[str] = []
    stop = threading.Event()

    def agent() -> None:
        i = 0
        while not stop.is_set():
            ids.append(recorder.log("tool_call", trace_id="crash", tool="step", prompt=i))
            i += 1
            time.sleep(0.0005)

    producer = threading.Thread(target=agent)
    producer.start()
    time.sleep(0.7)
    sent_before = recorder.stats().sent
    flightrec_server.kill()  # SIGKILL, mid-stream
    time.sleep(0.7)
    flightrec_server.start()  # same port, same data dir
    time.sleep(0.7)
    stop.set()
    producer.join()
    report = recorder.close(timeout=60)
    assert sent_before > 0, "events were acknowledged before the kill"
    undelivered = set(report.undelivered) | {r.id for r in report.rejected}
    delivered = [i for i in ids if i not in undelivered]
    assert report.complete, report
    stored = _server_ids(flightrec_server.client(), "crash")
    counts = Counter(stored)
    assert not [i for i, n in counts.items() if n > 1], "no event twice"
    missing = [i for i in delivered if i not in counts]
    assert not missing, f"{len(missing)} acknowledged events lost"
    assert set(stored) <= set(ids)
    assert stored == ids, "in the order they were logged"
    print(f"logged {len(ids)}, {sent_before} acknowledged before the kill")


def test_refused_events_are_reported_and_the_rest_delivered(flightrec_server: Any) -> None:
    client = flightrec_server.client()
    with flightrec.Recorder(client, batch_size=10) as recorder:
        good = [recorder.log("thinking", trace_id="mixed", content=str(i)) for i in range(5)]
        bad = recorder.record({"type": "thinking", "run_id": "mixed", "status": "great"})
        good += [recorder.log("thinking", trace_id="mixed", content=str(i)) for i in range(5, 9)]
        report = recorder.flush()
    assert report.sent == 9 and report.rejected_count == 1
    assert report.rejected[0].id == bad and "status" in report.rejected[0].reason
    assert not report.complete
    assert _server_ids(client, "mixed") == good


def test_a_bad_key_is_reported_as_rejected_without_the_key(flightrec_server: Any) -> None:
    secret = "fr_recorder_wrong_key_0123456789abcdef"
    recorder = flightrec.Recorder(flightrec.Client(flightrec_server.url, secret))
    event_id = recorder.log("start")
    report = recorder.close()
    assert [r.id for r in report.rejected] == [event_id]
    assert "401" in report.rejected[0].reason and secret not in report.rejected[0].reason
    assert secret not in repr(recorder)


def test_an_event_id_given_as_execution_id_is_reported_by_it(flightrec_server: Any) -> None:
    # `execution_id` is the id's alias (docs/api.md); the server refuses both
    # at once, so the recorder keeps the alias, and must report by it too.
    client = flightrec_server.client()
    with flightrec.Recorder(client) as recorder:
        assert recorder.record({"type": "thinking", "run_id": "alias", "execution_id": "exec-ok"}) == "exec-ok"
        assert recorder.flush().sent == 1
    assert _server_ids(client, "alias") == ["exec-ok"]

    refused = flightrec.Recorder(flightrec.Client(flightrec_server.url, "fr_recorder_wrong_key_0123456789abcdef"))
    refused.record({"type": "thinking", "execution_id": "exec-refused"})
    report = refused.close()
    assert [r.id for r in report.rejected] == ["exec-refused"]

    away = flightrec.Recorder(_dead_client(), flush_interval=60)
    away.log("thinking", execution_id="exec-away")
    assert away.close(timeout=0.2).undelivered == ["exec-away"]


def _dead_client() -> flightrec.Client:
    return flightrec.Client("http://127.0.0.1:9", "fr_dead_server_key_0123456789abcdef0", retry=flightrec.RetryPolicy(max_attempts=2, initial_delay=0.01))


def test_full_queue_policies() -> None:
    dropping = flightrec.Recorder(_dead_client(), batch_size=10, max_queue=10, on_full="drop", flush_interval=60)
    kept = [dropping.log("x") for _ in range(10)]
    dropped = [dropping.log("x") for _ in range(5)]
    report = dropping.close(timeout=0.3)
    assert report.dropped == dropped and report.dropped_count == 5
    assert sorted(report.undelivered) == sorted(kept), "what was kept is reported undelivered"

    raising = flightrec.Recorder(_dead_client(), batch_size=10, max_queue=10, on_full="raise", flush_interval=60)
    for _ in range(10):
        raising.log("x")
    with pytest.raises(flightrec.QueueFullError):
        raising.log("x")
    raising.close(timeout=0.1)

    blocking = flightrec.Recorder(_dead_client(), batch_size=10, max_queue=10, block_timeout=0.3, flush_interval=60)
    for _ in range(10):
        blocking.log("x")
    started = time.monotonic()
    with pytest.raises(flightrec.QueueFullError):
        blocking.log("x")
    assert 0.25 <= time.monotonic() - started < 3
    blocking.close(timeout=0.1)
    with pytest.raises(flightrec.RecorderClosedError):
        blocking.log("x")


def test_flush_raises_when_the_server_stays_away_and_keeps_the_events() -> None:
    recorder = flightrec.Recorder(_dead_client(), batch_size=10)
    event_id = recorder.log("x")
    with pytest.raises(flightrec.DeliveryError, match="stay queued"):
        recorder.flush(timeout=10)
    assert recorder.stats().buffered == 1
    assert recorder.close(timeout=0.2).undelivered == [event_id]


def test_bad_arguments() -> None:
    client = _dead_client()
    with pytest.raises(ValueError, match="batch_size"):
        flightrec.Recorder(client, batch_size=1001)
    with pytest.raises(ValueError, match="max_queue"):
        flightrec.Recorder(client, batch_size=100, max_queue=10)
    with pytest.raises(ValueError, match="on_full"):
        flightrec.Recorder(client, on_full="ignore")


def test_interpreter_exit_flushes_an_open_recorder(flightrec_server: Any) -> None:
    script = (
        "import flightrec\n"
        f"rec = flightrec.Recorder(flightrec.Client({flightrec_server.url!r}, {flightrec_server.api_key!r}), flush_interval=60)\n"
        "for i in range(30):\n"
        "    rec.log('thinking', trace_id='at-exit', content=str(i))\n"
        "print('logged')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(_server_ids(flightrec_server.client(), "at-exit")) == 30


def test_recorder_from_async_code_with_an_async_client(flightrec_server: Any) -> None:
    import asyncio

    async def agent() -> flightrec.DeliveryReport:
        async with flightrec_server.async_client() as client:
            recorder = flightrec.Recorder(client, batch_size=5)
            for i in range(12):
                recorder.log("thinking", trace_id="async-rec", content=str(i))  # never awaits
                await asyncio.sleep(0)
            return recorder.close()

    report = asyncio.run(agent())
    assert report.sent == 12 and report.complete
    assert len(_server_ids(flightrec_server.client(), "async-rec")) == 12


def test_an_event_that_cannot_be_json_is_rejected_and_the_rest_sent(flightrec_server: Any) -> None:
    client = flightrec_server.client()
    looped: dict = {}  # type: ignore[type-arg]
    looped["self"] = looped
    with flightrec.Recorder(client, batch_size=10) as recorder:
        good = recorder.log("thinking", trace_id="cyclic", content="fine")
        bad = recorder.record({"type": "thinking", "run_id": "cyclic", "metadata": looped})
        report = recorder.flush(timeout=30)
    assert report.sent == 1 and [r.id for r in report.rejected] == [bad]
    assert "JSON" in report.rejected[0].reason
    assert _server_ids(client, "cyclic") == [good]


def test_a_flush_waiting_when_the_recorder_closes_is_answered() -> None:
    recorder = flightrec.Recorder(_dead_client(), batch_size=10, retry=flightrec.RetryPolicy(max_attempts=1000, initial_delay=0.05, max_delay=0.05))
    recorder.log("x")
    outcome: List[BaseException] = []

    def flusher() -> None:
        try:
            recorder.flush()
        except BaseException as e:  # noqa: BLE001 - recorded for the assertion
            outcome.append(e)

    waiting = threading.Thread(target=flusher)
    waiting.start()
    time.sleep(0.3)
    report = recorder.close(timeout=0.2)
    waiting.join(5)
    assert not waiting.is_alive(), "the flush was answered"
    assert isinstance(outcome[0], flightrec.DeliveryError)
    assert report.undelivered_count == 1


def test_recorder_waits_out_the_real_servers_rate_limit(flightrec_server_factory: Any, fault_proxy_factory: Any) -> None:
    server = flightrec_server_factory(args=["--rate-limit-per-key-rps", "4"])
    proxy = fault_proxy_factory(server.url)  # only to watch the answers
    client = flightrec.Client(proxy.url, server.api_key, retry=flightrec.RetryPolicy(max_attempts=20, initial_delay=0.01, max_delay=0.05))
    with flightrec.Recorder(client, batch_size=5, flush_interval=0.01) as recorder:
        ids = [recorder.log("thinking", trace_id="limited", content=str(i)) for i in range(60)]
        report = recorder.flush(timeout=60)
    assert report.complete and report.sent == 60
    statuses = [s[3] for s in proxy.seen if s[1] == "POST"]
    assert statuses.count(201) == 12 and 429 in statuses, statuses
    reader = server.client(retry=flightrec.RetryPolicy(max_attempts=50, initial_delay=0.3, max_delay=1.0))
    assert [e["id"] for e in reader.runs.audit_log("limited")] == ids
