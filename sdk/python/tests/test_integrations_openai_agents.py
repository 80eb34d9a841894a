"""The OpenAI Agents SDK, driven by a fake model (its `Model` interface with
canned outputs, no network), traced into a real flightrec server."""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator, Dict, List, Optional

import httpx
import pytest

agents = pytest.importorskip("agents")

from agents import (  # noqa: E402
    Agent,
    GuardrailFunctionOutput,
    InputGuardrailTripwireTriggered,
    ModelResponse,
    RunConfig,
    Runner,
    function_tool,
    handoff,
    input_guardrail,
    set_trace_processors,
)
from agents.models.interface import Model  # noqa: E402
from agents.tracing import generation_span, response_span  # noqa: E402
from agents.usage import Usage  # noqa: E402
from openai.types.responses import (  # noqa: E402
    Response,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

import flightrec  # noqa: E402
from flightrec.integrations.openai_agents import FlightrecTracingProcessor  # noqa: E402


def message(text: str) -> ResponseOutputMessage:
    return ResponseOutputMessage(
        id="msg_1", type="message", role="assistant", status="completed",
        content=[ResponseOutputText(type="output_text", text=text, annotations=[])],
    )


def call(name: str, arguments: Dict[str, Any], call_id: str) -> ResponseFunctionToolCall:
    return ResponseFunctionToolCall(id=f"fc_{call_id}", type="function_call", call_id=call_id, name=name,
                                    arguments=json.dumps(arguments))


class CannedModel(Model):
    """Answers each turn with the next canned output, inside a generation span,
    as the SDK's own models do."""

    def __init__(self, name: str, turns: List[List[Any]]) -> None:
        self.name = name
        self.turns = list(turns)

    async def get_response(self, system_instructions: Optional[str], input: Any, model_settings: Any, tools: Any,
                           output_schema: Any, handoffs: Any, tracing: Any, **kwargs: Any) -> ModelResponse:
        output = self.turns.pop(0)
        with generation_span(model=self.name, disabled=tracing.is_disabled()) as span:
            span.span_data.input = input if isinstance(input, list) else [{"role": "user", "content": input}]
            span.span_data.output = [item.model_dump() for item in output]
            span.span_data.usage = {"input_tokens": 10, "output_tokens": 5}
        return ModelResponse(output=output, usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError("the tests do not stream")


class CannedResponsesModel(CannedModel):
    """Like the SDK's Responses-API model: each turn inside a response span."""

    async def get_response(self, system_instructions: Optional[str], input: Any, model_settings: Any, tools: Any,
                           output_schema: Any, handoffs: Any, tracing: Any, **kwargs: Any) -> ModelResponse:
        output = self.turns.pop(0)
        response = Response(id="resp_1", created_at=0, model=self.name, object="response", output=output,
                            parallel_tool_calls=False, tool_choice="auto", tools=[])
        with response_span(response=response, disabled=tracing.is_disabled()) as span:
            span.span_data.input = input
        return ModelResponse(output=output, usage=Usage(), response_id=response.id)


@function_tool
def lookup_invoice(number: int) -> str:
    """Look an invoice up by its number."""
    return json.dumps({"number": number, "status": "paid"})


def audit_log(server: Any, run_id: str) -> List[Dict[str, Any]]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.api_key}"}) as http:
        response = http.get(f"/v1/runs/{run_id}", params={"include": "audit_log"})
        response.raise_for_status()
        events: List[Dict[str, Any]] = response.json()["audit_log"]
        return events


def run_status(server: Any, run_id: str) -> str:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.api_key}"}) as http:
        status: str = http.get(f"/v1/runs/{run_id}").json()["status"]
        return status


@pytest.fixture
def recorder(flightrec_server: Any) -> Any:
    with flightrec.Recorder(flightrec_server.client(), flush_interval=0.05) as rec:
        set_trace_processors([FlightrecTracingProcessor(rec)])
        yield rec
    set_trace_processors([])


def test_an_agent_run_with_a_guardrail_a_handoff_and_a_tool(flightrec_server: Any, recorder: Any) -> None:
    @input_guardrail
    async def no_card_numbers(ctx: Any, agent: Any, input: Any) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info={"checked": True}, tripwire_triggered="4111" in str(input))

    billing = Agent(name="billing", instructions="Answer billing questions.", tools=[lookup_invoice],
                    model=CannedModel("fake-billing", [[call("lookup_invoice", {"number": 42}, "call_1")],
                                                       [message("Invoice 42 is paid.")]]))
    triage = Agent(name="triage", instructions="Route the question.", handoffs=[handoff(billing)],
                   input_guardrails=[no_card_numbers],
                   model=CannedModel("fake-triage", [[call("transfer_to_billing", {}, "call_0")]]))
    trace_id = "trace_" + "a1" * 16
    result = asyncio.run(Runner.run(triage, "Is invoice 42 paid?",
                                    run_config=RunConfig(workflow_name="billing question", trace_id=trace_id)))
    assert result.final_output == "Invoice 42 is paid."
    assert recorder.flush(timeout=10).complete

    events = audit_log(flightrec_server, trace_id)
    types = [e["type"] for e in events]
    assert types[0] == "start" and types[-1] == "complete", types
    assert sorted(types) == sorted(["start", "agent_task", "agent_run", "guardrail_check", "agent_turn", "llm_call",
                                    "handoff", "agent_run", "agent_turn", "llm_call", "tool_call", "agent_turn",
                                    "llm_call", "complete"]), types
    parent = {e["span_id"]: e.get("parent_span_id") for e in events if e.get("span_id")}

    def ancestors(event: Dict[str, Any]) -> List[str]:
        chain, span = [], event.get("parent_span_id")
        while span is not None:
            chain.append(span)
            span = parent.get(span)
        return chain

    by_type: Dict[str, List[Dict[str, Any]]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    task = by_type["agent_task"][0]
    agents_by_name = {e["actor"]["id"]: e for e in by_type["agent_run"]}
    triage_span, billing_span = agents_by_name["triage"]["span_id"], agents_by_name["billing"]["span_id"]
    assert all(a["parent_span_id"] == task["span_id"] for a in by_type["agent_run"])

    tool = by_type["tool_call"][0]
    assert (tool["tool"], tool["input"], tool["output"]) == ("lookup_invoice", {"number": 42}, {"number": 42, "status": "paid"})
    assert billing_span in ancestors(tool) and tool["agent_id"] == "billing"
    hand = by_type["handoff"][0]
    assert triage_span in ancestors(hand)
    assert (hand["metadata"]["from_agent"], hand["metadata"]["to_agent"]) == ("triage", "billing")
    guard = by_type["guardrail_check"][0]
    assert (guard["status"], guard["metadata"]["guardrail"]) == ("ok", "no_card_numbers")
    assert triage_span in ancestors(guard)
    owners = sorted("triage" if triage_span in ancestors(e) else "billing" for e in by_type["llm_call"])
    assert owners == ["billing", "billing", "triage"]
    assert {e["metadata"]["model"] for e in by_type["llm_call"]} == {"fake-triage", "fake-billing"}
    assert all(e["status"] == "ok" for e in events)
    assert run_status(flightrec_server, trace_id) == "completed"


def test_a_tripped_guardrail_fails_the_run(flightrec_server: Any, recorder: Any) -> None:
    @input_guardrail
    async def no_card_numbers(ctx: Any, agent: Any, input: Any) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info={"found": "card"}, tripwire_triggered="4111" in str(input))

    triage = Agent(name="triage", input_guardrails=[no_card_numbers],
                   model=CannedModel("fake-triage", [[message("never reached")]]))
    trace_id = "trace_" + "b2" * 16
    with pytest.raises(InputGuardrailTripwireTriggered):
        asyncio.run(Runner.run(triage, "charge 4111 1111 1111 1111",
                               run_config=RunConfig(workflow_name="blocked", trace_id=trace_id)))
    assert recorder.flush(timeout=10).complete

    events = audit_log(flightrec_server, trace_id)
    guard = next(e for e in events if e["type"] == "guardrail_check")
    assert guard["status"] in ("warn", "fail")
    assert guard["governance"]["status"] == "blocked" and guard["metadata"]["triggered"] is True
    turn = next(e for e in events if e["type"] == "agent_turn")
    assert turn["status"] == "fail" and "tripwire" in turn["error"]["message"]
    assert not any(e["type"] == "llm_call" for e in events)  # the model was never asked
    assert events[-1]["type"] == "complete" and events[-1]["status"] == "fail"
    assert run_status(flightrec_server, trace_id) == "failed"


def test_a_responses_api_model_is_an_llm_call(flightrec_server: Any, recorder: Any) -> None:
    assistant = Agent(name="assistant", model=CannedResponsesModel("fake-responses", [[message("Hello.")]]))
    trace_id = "trace_" + "c3" * 16
    result = asyncio.run(Runner.run(assistant, "Say hello", run_config=RunConfig(trace_id=trace_id)))
    assert result.final_output == "Hello."
    assert recorder.flush(timeout=10).complete
    events = audit_log(flightrec_server, trace_id)
    call = next(e for e in events if e["type"] == "llm_call")
    assert (call["metadata"]["model"], call["metadata"]["response_id"]) == ("fake-responses", "resp_1")
    assert call["input"] == [{"content": "Say hello", "role": "user"}]
    assert call["output"][0]["content"][0]["text"] == "Hello."
    assert call["agent_id"] == "assistant"
