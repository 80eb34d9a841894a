"""The replay cursor against the real binary: pacing checked against the
recorded gaps, and every control (pause, resume, set_speed, seek_to,
seek_to_event, get_state_at)."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, List, Tuple

import pytest

import flightrec

T0 = datetime(2026, 11, 22, 10, 0, 0, tzinfo=timezone.utc)
# Seconds after T0 of each event of the run "fix".
OFFSETS = [0.0, 0.3, 0.5, 0.9, 1.0, 1.4, 1.6]
TOLERANCE = 0.15


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _record_fix(client: flightrec.Client) -> None:
    shapes = [
        {"type": "start"},
        {"type": "user_input", "content": "the total is off by one"},
        {"type": "read_file", "input": {"path": "src/sum.rs"}, "output": "fn total(n: u32) -> u32 {\n    (0..n).sum()\n}\n"},
        {"type": "thinking", "content": "inclusive range"},
        {"type": "edit_file", "input": {"path": "src/sum.rs", "old_str": "(0..n)", "new_str": "(0..=n)"}},
        {"type": "write_file", "input": {"path": "NOTES.md", "content": "fixed\n"}},
        {"type": "complete"},
    ]
    client.record_batch([{**shape, "run_id": "fix", "time": _at(t)} for shape, t in zip(shapes, OFFSETS)])


async def _play(replay: flightrec.Replay, on_event: Any = None) -> List[Tuple[int, float, dict]]:  # type: ignore[type-arg]
    """(index, arrival time, event) for every event; `on_event(index, replay)` after each."""
    seen = []
    async for event in replay:
        index = replay.position - 1
        seen.append((index, time.monotonic(), event))
        if on_event is not None:
            on_event(index, replay)
    return seen


def _gaps(seen: List[Tuple[int, float, dict]]) -> List[float]:  # type: ignore[type-arg]
    return [b[1] - a[1] for a, b in zip(seen, seen[1:])]


def test_replay_paces_by_the_recorded_gaps(flightrec_server: Any) -> None:
    client = flightrec_server.client()
    _record_fix(client)
    seen = asyncio.run(_play(client.runs.replay("fix")))
    assert [i for i, _, _ in seen] == list(range(7))
    assert [e["type"] for _, _, e in seen][-1] == "complete"
    expected = [b - a for a, b in zip(OFFSETS, OFFSETS[1:])]
    for got, want in zip(_gaps(seen), expected):
        assert abs(got - want) < TOLERANCE, (_gaps(seen), expected)


def test_set_speed_applies_at_once(flightrec_server: Any) -> None:
    client = flightrec_server.client()
    _record_fix(client)

    def faster(index: int, replay: flightrec.Replay) -> None:
        if index == 2:
            replay.set_speed(4)

    async def main() -> List[Tuple[int, float, dict]]:  # type: ignore[type-arg]
        async with flightrec_server.async_client() as ac:
            return await _play(ac.runs.replay("fix", speed=2), faster)

    seen = asyncio.run(main())
    expected = [b - a for a, b in zip(OFFSETS, OFFSETS[1:])]
    for k, (got, want) in enumerate(zip(_gaps(seen), expected)):
        speed = 2 if k < 2 else 4
        assert abs(got - want / speed) < TOLERANCE, (k, got, want / speed)
    with pytest.raises(ValueError):
        client.runs.replay("fix", speed=0)
    with pytest.raises(ValueError):
        client.runs.replay("fix").set_speed(10_001)


def test_pause_and_resume(flightrec_server: Any) -> None:
    client = flightrec_server.client()
    _record_fix(client)
    pause_for = 0.6

    def pause_after_first(index: int, replay: flightrec.Replay) -> None:
        if index == 1:
            replay.pause()
            assert replay.paused
            asyncio.get_running_loop().call_later(pause_for, replay.resume)

    seen = asyncio.run(_play(client.runs.replay("fix", speed=1), pause_after_first))
    gaps = _gaps(seen)
    assert abs(gaps[1] - (pause_for + 0.2)) < TOLERANCE, gaps
    assert abs(gaps[2] - 0.4) < TOLERANCE, "the clock runs again after resume"


def test_a_pause_during_a_wait_holds_the_event(flightrec_server: Any) -> None:
    client = flightrec_server.client()
    _record_fix(client)

    async def main() -> List[float]:
        replay = client.runs.replay("fix")
        await replay.next()
        await replay.next()  # event 1; event 2 is due 0.2 s later
        start = time.monotonic()
        loop = asyncio.get_running_loop()
        loop.call_later(0.1, replay.pause)  # halfway through the wait
        loop.call_later(0.6, replay.resume)
        await replay.next()
        waited = time.monotonic() - start
        await replay.aclose()
        return [waited]

    [waited] = asyncio.run(main())
    assert abs(waited - 0.7) < TOLERANCE, waited


def test_seek_to_event_and_seek_to_time(flightrec_server: Any) -> None:
    client = flightrec_server.client()
    _record_fix(client)

    async def main() -> None:
        replay = client.runs.replay("fix")
        first = await replay.next()
        assert first is not None and first["type"] == "start"
        replay.seek_to_event(4)
        started = time.monotonic()
        jumped = await replay.next()
        assert jumped is not None and jumped["type"] == "edit_file" and replay.position == 5
        assert time.monotonic() - started < TOLERANCE + 0.1, "the target shows at once"
        after = await replay.next()
        assert after is not None and after["type"] == "write_file"
        assert abs(time.monotonic() - started - 0.4) < TOLERANCE + 0.1, "then paced again"

        index = await replay.seek_to(_at(0.6))  # events at 0, 0.3, 0.5 are at or before
        assert index == 3
        nxt = await replay.next()
        assert nxt is not None and nxt["type"] == "thinking"
        index = await replay.seek_to(T0 + timedelta(seconds=0.1))
        assert index == 1
        nxt = await replay.next()
        assert nxt is not None and nxt["type"] == "user_input"
        rest = [e["type"] async for e in replay]
        assert rest[-1] == "complete" and len(rest) == 5
        assert replay.end == flightrec.ReplayEnd(events=7, reason="completed")
        await replay.aclose()

    asyncio.run(main())


def test_get_state_at_equals_the_servers_state(flightrec_server: Any) -> None:
    client = flightrec_server.client()
    _record_fix(client)

    async def main() -> None:
        replay = client.runs.replay("fix")
        for n in range(len(OFFSETS)):
            mine = await replay.get_state_at(n)
            assert mine == client.runs.state("fix", event=n)
        final = await replay.get_state_at(6)
        assert final["files"]["src/sum.rs"]["content"] == "fn total(n: u32) -> u32 {\n    (0..=n).sum()\n}\n"
        assert final["files"]["NOTES.md"]["content"] == "fixed\n"
        assert [c["type"] for c in final["context"]][:2] == ["user_input", "read_file"]
        at_time = await replay.get_state_at(_at(0.95))
        assert at_time == client.runs.state("fix", at=_at(0.95))
        assert at_time["events"] == 4 and "src/sum.rs" in at_time["files"]
        assert (await replay.state())["events"] == 0
        await replay.next()
        assert (await replay.state()) == client.runs.state("fix", event=0)
        with pytest.raises(flightrec.InvalidRequestError):
            await replay.get_state_at(99)
        await replay.aclose()

    asyncio.run(main())


def test_max_gap_caps_a_long_idle(flightrec_server: Any) -> None:
    client = flightrec_server.client()
    client.record_batch([
        {"type": "start", "run_id": "idle", "time": _at(0)},
        {"type": "complete", "run_id": "idle", "time": _at(3600)},
    ])
    seen = asyncio.run(_play(client.runs.replay("idle", max_gap=0.3)))
    assert abs(_gaps(seen)[0] - 0.3) < TOLERANCE


def test_replay_follows_a_live_run_until_it_completes(flightrec_server: Any) -> None:
    client = flightrec_server.client()
    client.record({"type": "start", "run_id": "live"})

    def agent() -> None:
        for i in range(3):
            time.sleep(0.2)
            client.record({"type": "thinking", "run_id": "live", "content": str(i)})
        client.record({"type": "complete", "run_id": "live"})

    threading.Thread(target=agent).start()

    async def main() -> List[str]:
        replay = client.runs.replay("live", speed=100)
        types = [e["type"] async for e in replay]
        assert replay.end is not None and replay.end.reason == "completed"
        await replay.aclose()
        return types

    assert asyncio.run(main()) == ["start", "thinking", "thinking", "thinking", "complete"]


def test_a_seek_while_a_live_run_is_quiet_acts_at_once(flightrec_server: Any) -> None:
    # A followed run may send nothing for minutes (the server waits up to 10);
    # a seek must not wait for the run's next event.
    client = flightrec_server.client()
    client.record({"type": "start", "run_id": "quiet"})
    client.record({"type": "thinking", "run_id": "quiet", "content": "one"})

    async def main() -> None:
        async with flightrec_server.async_client() as ac:
            replay = ac.runs.replay("quiet", speed=10_000)
            assert [(await replay.next() or {}).get("type") for _ in range(2)] == ["start", "thinking"]
            waiting = asyncio.ensure_future(replay.next())  # the run is quiet: this waits on the server
            await asyncio.sleep(0.3)
            assert not waiting.done()
            replay.seek_to_event(0)
            event = await asyncio.wait_for(waiting, 5)
            assert event is not None and event["type"] == "start" and replay.position == 1
            assert (await replay.next() or {}).get("content") == "one"
            client.record({"type": "complete", "run_id": "quiet"})
            assert (await asyncio.wait_for(replay.next(), 10) or {}).get("type") == "complete"
            assert await replay.next() is None and replay.end is not None and replay.end.reason == "completed"
            await replay.aclose()

    asyncio.run(main())


def test_replay_of_an_unknown_run(flightrec_server: Any) -> None:
    async def main() -> None:
        async with flightrec_server.async_client() as ac:
            with pytest.raises(flightrec.NotFoundError):
                await ac.runs.replay("no-such-run").next()

    asyncio.run(main())
