"""An OpenAI Agents SDK tracing processor that records each agent trace as one
flightrec run.

    from agents import add_trace_processor
    from flightrec.integrations.openai_agents import FlightrecTracingProcessor

    recorder = flightrec.Recorder(flightrec.Client())
    add_trace_processor(FlightrecTracingProcessor(recorder))

The trace id is the run id. The trace's start and end become `start` and
`complete` events; each span becomes one event when it ends, at the time it
started, with its `duration_ms`, `span_id` and `parent_span_id`:

| span | event `type` |
| --- | --- |
| agent | `agent_run` (`actor` the agent, `metadata.tools`, `handoffs`) |
| generation, response | `llm_call` (`input`, `output`, `metadata.model`, `usage`) |
| function | `tool_call` (`tool`, `input`, `output`) |
| handoff | `handoff` (`metadata.from_agent`, `to_agent`) |
| guardrail | `guardrail_check` (`warn` and `governance.status: blocked` when its tripwire fired) |
| task (one `Runner.run`), turn | `agent_task`, `agent_turn` |
| MCP tool listing | `mcp_list_tools`; anything else `span` |

A span that failed is `status: fail` with its `error`; a run in which an
agent, its task or a turn failed (the run was stopped, e.g. by a guardrail's
tripwire) completes as `fail`. Event ids derive from trace and span ids,
so recording twice records once.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Dict, Mapping, Optional

from agents.tracing import Span, Trace, TracingProcessor
from agents.tracing.span_data import (
    AgentSpanData,
    CustomSpanData,
    FunctionSpanData,
    GenerationSpanData,
    GuardrailSpanData,
    HandoffSpanData,
    MCPListToolsSpanData,
    ResponseSpanData,
    TaskSpanData,
    TurnSpanData,
)

from ._common import EventSink, duration_ms, iso, jsonable, parse_time, utc_now

__all__ = ["FlightrecTracingProcessor"]

_log = logging.getLogger("flightrec.integrations")


class FlightrecTracingProcessor(TracingProcessor):
    """Records OpenAI Agents SDK traces through a flightrec Recorder.

    `agent_id` sets every event's `agent_id` (default: the name of the agent
    whose span encloses the event). `include_content=False` leaves model and
    tool inputs and outputs out of the record (names, timings and statuses
    stay). The processor never raises into the agent: a value it cannot
    record is recorded as text.
    """

    def __init__(self, recorder: EventSink, *, agent_id: Optional[str] = None, include_content: bool = True) -> None:
        self._recorder = recorder
        self._agent_id = agent_id
        self._include_content = include_content
        self._lock = threading.Lock()
        self._parents: Dict[str, Optional[str]] = {}  # span id -> parent span id, while its trace runs
        self._agents: Dict[str, str] = {}  # agent span id -> agent name
        self._span_traces: Dict[str, str] = {}  # span id -> trace id
        self._failed_traces: Dict[str, bool] = {}

    # ---- TracingProcessor ---------------------------------------------------

    def on_trace_start(self, trace: Trace) -> None:
        exported = trace.export() or {}
        metadata = {"workflow": trace.name}
        if exported.get("group_id"):
            metadata["group_id"] = exported["group_id"]
        if exported.get("metadata"):
            metadata["trace_metadata"] = jsonable(exported["metadata"])
        event: Dict[str, Any] = {
            "id": f"{trace.trace_id}:start",
            "type": "start",
            "run_id": trace.trace_id,
            "time": iso(utc_now()),
            "message": trace.name,
            "metadata": metadata,
        }
        if self._agent_id:
            event["agent_id"] = self._agent_id
        self._record(event)

    def on_trace_end(self, trace: Trace) -> None:
        with self._lock:
            failed = self._failed_traces.pop(trace.trace_id, False)
            # Forget the trace's spans: this state lives only as long as its trace.
            for span_id in [s for s, t in self._span_traces.items() if t == trace.trace_id]:
                self._parents.pop(span_id, None)
                self._agents.pop(span_id, None)
                self._span_traces.pop(span_id, None)
        event: Dict[str, Any] = {
            "id": f"{trace.trace_id}:complete",
            "type": "complete",
            "run_id": trace.trace_id,
            "time": iso(utc_now()),
            "status": "fail" if failed else "ok",
            "message": trace.name,
        }
        if self._agent_id:
            event["agent_id"] = self._agent_id
        self._record(event)

    def on_span_start(self, span: Span[Any]) -> None:
        with self._lock:
            self._parents[span.span_id] = span.parent_id
            self._span_traces[span.span_id] = span.trace_id
            if isinstance(span.span_data, AgentSpanData):
                self._agents[span.span_id] = span.span_data.name

    def on_span_end(self, span: Span[Any]) -> None:
        try:
            event = self._event_of(span)
        except Exception as exc:  # never break the agent over a record
            event = {
                "id": f"{span.trace_id}:{span.span_id}",
                "type": "span",
                "run_id": span.trace_id,
                "span_id": span.span_id,
                "status": "warn",
                "message": f"flightrec could not read this span: {type(exc).__name__}: {exc}",
            }
            if span.parent_id:
                event["parent_span_id"] = span.parent_id
        self._record(event)

    def shutdown(self) -> None:
        flush = getattr(self._recorder, "flush", None)
        if callable(flush):
            try:
                flush()
            except Exception as exc:  # e.g. already closed at interpreter exit
                _log.debug("flightrec: flush on shutdown: %s", exc)

    def force_flush(self) -> None:
        self.shutdown()

    # ---- mapping ---------------------------------------------------------

    def _enclosing_agent(self, span_id: Optional[str]) -> Optional[str]:
        with self._lock:
            seen = 0
            while span_id is not None and seen < 1000:
                name = self._agents.get(span_id)
                if name is not None:
                    return name
                span_id = self._parents.get(span_id)
                seen += 1
        return None

    def _event_of(self, span: Span[Any]) -> Dict[str, Any]:
        data = span.span_data
        started, ended = parse_time(span.started_at), parse_time(span.ended_at)
        event: Dict[str, Any] = {
            "id": f"{span.trace_id}:{span.span_id}",
            "run_id": span.trace_id,
            "span_id": span.span_id,
        }
        if span.parent_id:
            event["parent_span_id"] = span.parent_id
        if started is not None:
            event["time"] = iso(started)
        took = duration_ms(started, ended)
        if took is not None:
            event["duration_ms"] = took
        agent = self._agent_id or self._enclosing_agent(span.span_id)
        if agent:
            event["agent_id"] = agent
        metadata: Dict[str, Any] = {"span_type": data.type}
        content = self._include_content

        if isinstance(data, AgentSpanData):
            event["type"] = "agent_run"
            event["message"] = f"agent {data.name}"
            event["actor"] = {"type": "agent", "id": data.name}
            metadata.update(tools=data.tools, handoffs=data.handoffs, output_type=data.output_type)
        elif isinstance(data, GenerationSpanData):
            event["type"] = "llm_call"
            metadata.update(model=data.model, usage=jsonable(data.usage), model_config=jsonable(data.model_config))
            if content:
                event["input"] = jsonable(data.input)
                event["output"] = jsonable(data.output)
        elif isinstance(data, ResponseSpanData):
            event["type"] = "llm_call"
            response = data.response
            metadata.update(
                response_id=getattr(response, "id", None),
                model=getattr(response, "model", None),
                usage=jsonable(data.usage if data.usage is not None else getattr(response, "usage", None)),
            )
            if content:
                event["input"] = jsonable(data.input)
                event["output"] = jsonable(getattr(response, "output", None))
        elif isinstance(data, FunctionSpanData):
            event["type"] = "tool_call"
            event["tool"] = data.name
            if data.mcp_data:
                metadata["mcp"] = jsonable(data.mcp_data)
            if content:
                event["input"] = _maybe_json(data.input)
                event["output"] = _maybe_json(data.output)
        elif isinstance(data, HandoffSpanData):
            event["type"] = "handoff"
            event["message"] = f"handoff from {data.from_agent} to {data.to_agent}"
            metadata.update(from_agent=data.from_agent, to_agent=data.to_agent)
        elif isinstance(data, GuardrailSpanData):
            event["type"] = "guardrail_check"
            event["message"] = f"guardrail {data.name}" + (" tripped" if data.triggered else " passed")
            metadata.update(guardrail=data.name, triggered=data.triggered)
            if data.triggered:
                event["status"] = "warn"
                event["governance"] = {"status": "blocked", "policy": data.name, "reason": "guardrail tripwire triggered"}
        elif isinstance(data, TaskSpanData):
            event["type"] = "agent_task"
            event["message"] = data.name
            metadata.update(usage=jsonable(data.usage))
        elif isinstance(data, TurnSpanData):
            event["type"] = "agent_turn"
            event["message"] = f"turn {data.turn} of {data.agent_name}"
            metadata.update(turn=data.turn, agent=data.agent_name, usage=jsonable(data.usage))
        elif isinstance(data, MCPListToolsSpanData):
            event["type"] = "mcp_list_tools"
            metadata.update(server=data.server, tools=jsonable(data.result))
        elif isinstance(data, CustomSpanData):
            event["type"] = "span"
            event["message"] = data.name
            metadata["data"] = jsonable(data.data)
        else:
            event["type"] = "span"
            metadata["span"] = jsonable(data.export())

        error = span.error
        if error:
            event["status"] = "fail"
            event["error"] = {"message": str(error.get("message") or "error")}
            if error.get("data") is not None:
                metadata["error_data"] = jsonable(error.get("data"))
            # An error on the agent, its task or a turn ends the run (a failing
            # tool does not: the SDK hands its error to the model and goes on).
            if isinstance(data, (AgentSpanData, TaskSpanData, TurnSpanData)):
                with self._lock:
                    self._failed_traces[span.trace_id] = True
        event["metadata"] = {k: v for k, v in metadata.items() if v is not None}
        return event

    def _record(self, event: Mapping[str, Any]) -> None:
        try:
            self._recorder.record(event)
        except Exception as exc:  # a closed or full recorder must not stop the agent
            _log.warning("flightrec: could not record %s event %s: %s", event.get("type"), event.get("id"), exc)


def _maybe_json(value: Any) -> Any:
    """Tool arguments and results arrive as JSON text; keep them as JSON when they are."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return jsonable(value)
