"""Reading against the real binary: runs, their audit log with filters,
auto-paging searches, alerts, state and exports."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, List

import pytest

import flightrec


def _run(client: flightrec.Client, run_id: str, n: int, start_second: int = 0) -> List[str]:
    events = [
        {"type": "tool_call" if i % 2 else "thinking", "run_id": run_id, "time": f"2026-11-22T10:00:{start_second + i:02d}Z", "content": f"{run_id} {i}"}
        for i in range(n)
    ]
    return [r["id"] for r in client.record_batch(events)]


def test_runs_list_pages_through_every_run(flightrec_server: Any) -> None:
    with flightrec_server.client() as client:
        for i in range(7):
            _run(client, f"run-{i}", 2)
        client.record({"type": "complete", "run_id": "run-3"})
        runs = list(client.runs.list(page_size=3))
        assert sorted(r["run_id"] for r in runs) == [f"run-{i}" for i in range(7)]
        assert [r["run_id"] for r in client.runs.list(status="completed")] == ["run-3"]


def test_runs_get_with_audit_log_filters_by_time_and_type(flightrec_server: Any) -> None:
    with flightrec_server.client() as client:
        ids = _run(client, "filtered", 10)
        run = client.runs.get("filtered")
        assert run["event_count"] == 10 and "audit_log" not in run
        full = client.runs.get("filtered", include=["audit_log"])
        assert [e["id"] for e in full["audit_log"]] == ids
        window = client.runs.get("filtered", include=["audit_log"], from_="2026-11-22T10:00:02Z", to="2026-11-22T10:00:05Z")
        assert [e["content"] for e in window["audit_log"]] == [f"filtered {i}" for i in (2, 3, 4, 5)]
        calls = client.runs.get("filtered", include=["audit_log"], types=["tool_call"])
        assert all(e["type"] == "tool_call" for e in calls["audit_log"]) and len(calls["audit_log"]) == 5
        # Without a limit every page is fetched; with one, the rest is behind next_cursor.
        paged = client.runs.get("filtered", include=["audit_log"], limit=4)
        assert len(paged["audit_log"]) == 4 and paged["next_cursor"]
        assert [e["id"] for e in client.runs.audit_log("filtered", page_size=3)] == ids
        with pytest.raises(TypeError):
            client.runs.get("filtered", include="audit_log")  # type: ignore[arg-type]


def test_events_search_pages_automatically(flightrec_server: Any) -> None:
    with flightrec_server.client() as client:
        ids = _run(client, "search", 23)
        found = list(client.events.search(run_id="search", page_size=5))
        assert [e["id"] for e in found] == list(reversed(ids)), "newest first, every page"
        assert len(list(client.events.search(run_id="search", type="tool_call", page_size=4))) == 11
        assert list(client.events.search(run_id="no-such-run")) == []
        with pytest.raises(flightrec.InvalidRequestError):
            list(client.events.search(no_such_filter="x"))
        with pytest.raises(TypeError, match="page_size"):
            client.events.search(limit=3)
        import itertools

        assert len(list(itertools.islice(client.events.search(run_id="search", page_size=2), 3))) == 3


def test_alerts_are_listed_read_and_resolved(flightrec_server: Any) -> None:
    with flightrec_server.client() as client:
        # An AWS-style access key in the input trips the always-on credential
        # masking; a compliance pack gives an alert.
        client._transport.request("POST", "/v1/compliance-rules/packs", content=json.dumps({"packId": "finance"}).encode())
        client.record({"type": "tool_call", "run_id": "pay", "input": {"card": "charge 4111 1111 1111 1111 now"}})
        alerts = list(client.alerts.list(run_id="pay", page_size=1))
        assert alerts, "the finance pack raises an alert on a card number"
        alert = client.alerts.get(alerts[0]["id"])
        assert alert["run_id"] == "pay" and alert["status"] == "open"
        assert "4111 1111" not in json.dumps(alert)
        assert client.alerts.resolve(alert["id"])["status"] == "resolved"
        assert list(client.alerts.list(run_id="pay", status="open")) == []


def test_state_and_tree(flightrec_server: Any) -> None:
    with flightrec_server.client() as client:
        client.record_batch([
            {"type": "read_file", "run_id": "fix", "input": {"path": "a.txt"}, "output": "one\n"},
            {"type": "edit_file", "run_id": "fix", "input": {"path": "a.txt", "old_str": "one", "new_str": "two"}},
        ])
        assert client.runs.state("fix", event=0)["files"]["a.txt"]["content"] == "one\n"
        assert client.runs.state("fix")["files"]["a.txt"]["content"] == "two\n"
        with pytest.raises(ValueError):
            client.runs.state("fix", event=0, at="2026-11-22T10:00:00Z")
        assert client.runs.tree("fix")["event_count"] == 2


def test_export_audit_log_streams_to_a_file(flightrec_server: Any, tmp_path: Path) -> None:
    with flightrec_server.client() as client:
        ids = _run(client, "exported", 5)
        target = tmp_path / "run.jsonl"
        written = client.runs.export_audit_log("exported", format="jsonl", path=target)
        lines = target.read_text().splitlines()
        assert written == target.stat().st_size and not (tmp_path / "run.jsonl.part").exists()
        records = [json.loads(line) for line in lines]
        assert [r["header"]["id"] for r in records if "header" in r] == ids
        assert "checkpoint" in records[-2] and "public_key" in records[-1]

        buffer = io.BytesIO()
        client.runs.export_audit_log("exported", format="csv", file=buffer)
        rows = list(csv.DictReader(io.StringIO(buffer.getvalue().decode())))
        assert [row["id"] for row in rows] == ids

        whole = tmp_path / "all.jsonl"
        client.events.export(path=whole)
        assert sum(1 for line in whole.read_text().splitlines() if '"header"' in line) >= 5

        with pytest.raises(ValueError, match="exactly one"):
            client.runs.export_audit_log("exported")
        with pytest.raises(flightrec.InvalidRequestError):
            client.runs.export_audit_log("exported", format="pdf", path=tmp_path / "x")
        assert not (tmp_path / "x").exists()


def test_proofs_checkpoint_and_key(flightrec_server: Any) -> None:
    with flightrec_server.client() as client:
        receipt = client.record({"type": "start", "run_id": "proved"})
        event = client.events.get(receipt["id"], proof=True)
        assert event["leaf_hash"] == receipt["leaf_hash"] and event["proof"]["tree_size"] > receipt["seq"]
        proof = client.events.proof(receipt["id"])
        assert proof["leaf_hash"] == receipt["leaf_hash"]
        text = client.events.proof(receipt["id"], format="tlog-proof")
        assert isinstance(text, str) and "c2sp.org/tlog-proof" in text
        assert client.checkpoint().startswith("flightrec.local/default\n")
        assert client.public_key().startswith("flightrec.local/default+")
        assert client.stats()["total"] >= 1


def test_async_reading_and_export(flightrec_server: Any, tmp_path: Path) -> None:
    import asyncio

    sync = flightrec_server.client()
    ids = _run(sync, "async-read", 6)

    async def main() -> None:
        async with flightrec_server.async_client() as client:
            runs = [r["run_id"] async for r in client.runs.list(page_size=1)]
            assert runs == ["async-read"]
            assert [e["id"] async for e in client.runs.audit_log("async-read", page_size=4)] == ids
            window = await client.runs.get("async-read", include=["audit_log"], types=["thinking"], limit=2)
            assert len(window["audit_log"]) == 2 and window["next_cursor"]
            assert (await client.runs.state("async-read"))["events"] == 6
            written = await client.runs.export_audit_log("async-read", format="transcript", path=tmp_path / "t.md")
            assert written == (tmp_path / "t.md").stat().st_size > 0
            assert [a async for a in client.alerts.list()] == []

    asyncio.run(main())
