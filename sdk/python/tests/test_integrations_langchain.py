"""LangChain (langchain-core), driven by its own fake chat model (no network),
recorded into a real flightrec server through the callback handler."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import httpx
import pytest

pytest.importorskip("langchain_core")

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel  # noqa: E402
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402
from langchain_core.runnables import RunnableConfig, RunnableLambda  # noqa: E402
from langchain_core.tools import tool  # noqa: E402

import flightrec  # noqa: E402
from flightrec.integrations.langchain import FlightrecCallbackHandler  # noqa: E402


@tool
def lookup_invoice(number: int) -> str:
    """Look an invoice up by its number."""
    if number == 13:
        raise ValueError("invoice 13 is unlucky")
    return json.dumps({"number": number, "status": "paid"})


def make_agent(model: FakeMessagesListChatModel) -> Any:
    """A small tool-calling loop: ask the model, run the tools it asks for, ask again."""
    prompt = ChatPromptTemplate.from_messages([("system", "You answer billing questions."), ("human", "{question}")])

    def loop(inputs: Dict[str, Any], config: RunnableConfig) -> str:
        messages: List[BaseMessage] = prompt.invoke(inputs, config).to_messages()
        for _ in range(5):
            reply = model.invoke(messages, config)
            messages.append(reply)
            if not isinstance(reply, AIMessage) or not reply.tool_calls:
                return str(reply.content)
            for call in reply.tool_calls:
                messages.append(lookup_invoice.invoke(call, config))
        raise RuntimeError("too many turns")

    return RunnableLambda(loop).with_config(run_name="billing_agent")


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


def test_a_chain_with_a_chat_model_and_a_tool(flightrec_server: Any) -> None:
    model = FakeMessagesListChatModel(responses=[
        AIMessage(content="", tool_calls=[{"name": "lookup_invoice", "args": {"number": 42}, "id": "call_1"}]),
        AIMessage(content="Invoice 42 is paid."),
    ])
    with flightrec.Recorder(flightrec_server.client(), flush_interval=0.05) as recorder:
        handler = FlightrecCallbackHandler(recorder, run_id="lc-run-1", agent_id="billing")
        answer = make_agent(model).invoke({"question": "Is invoice 42 paid?"}, config={"callbacks": [handler]})
        assert answer == "Invoice 42 is paid."
        assert recorder.flush(timeout=10).complete

    events = audit_log(flightrec_server, "lc-run-1")
    types = [e["type"] for e in events]
    assert types[0] == "start" and types[-1] == "complete", types
    assert sorted(types) == sorted(["start", "chain", "chain", "llm_call", "tool_call", "llm_call", "complete"]), types
    agent = next(e for e in events if e["type"] == "chain" and e["message"] == "billing_agent")
    prompt = next(e for e in events if e["type"] == "chain" and e is not agent)
    assert "parent_span_id" not in agent and prompt["parent_span_id"] == agent["span_id"]
    assert agent["input"] == {"question": "Is invoice 42 paid?"} and agent["output"] == "Invoice 42 is paid."

    llm_calls = [e for e in events if e["type"] == "llm_call"]
    assert all(e["parent_span_id"] == agent["span_id"] for e in llm_calls)
    first, second = sorted(llm_calls, key=lambda e: e["time"])
    assert [m["role"] for m in first["input"]] == ["system", "human"]
    assert first["output"]["tool_calls"][0]["name"] == "lookup_invoice"
    assert [m["role"] for m in second["input"]] == ["system", "human", "ai", "tool"]
    assert second["output"]["content"] == "Invoice 42 is paid."

    tool_call = next(e for e in events if e["type"] == "tool_call")
    assert (tool_call["tool"], tool_call["parent_span_id"]) == ("lookup_invoice", agent["span_id"])
    assert tool_call["input"] == {"number": 42} and tool_call["output"] == {"number": 42, "status": "paid"}
    assert all(e["agent_id"] == "billing" and e["status"] == "ok" for e in events)
    assert all(e.get("duration_ms", 0) >= 0 for e in events)
    assert run_status(flightrec_server, "lc-run-1") == "completed"


def test_a_failing_tool_fails_the_run(flightrec_server: Any) -> None:
    model = FakeMessagesListChatModel(responses=[
        AIMessage(content="", tool_calls=[{"name": "lookup_invoice", "args": {"number": 13}, "id": "call_9"}]),
    ])
    with flightrec.Recorder(flightrec_server.client(), flush_interval=0.05) as recorder:
        handler = FlightrecCallbackHandler(recorder)
        with pytest.raises(ValueError, match="unlucky"):
            make_agent(model).invoke({"question": "And invoice 13?"}, config={"callbacks": [handler]})
        assert recorder.flush(timeout=10).complete

    with httpx.Client(base_url=flightrec_server.url, headers={"Authorization": f"Bearer {flightrec_server.api_key}"}) as http:
        runs = http.get("/v1/runs").json()["runs"]
    assert len(runs) == 1
    run_id = runs[0]["run_id"]  # the top-level LangChain run's id
    events = audit_log(flightrec_server, run_id)
    tool_call = next(e for e in events if e["type"] == "tool_call")
    assert tool_call["status"] == "fail" and "ValueError: invoice 13 is unlucky" in tool_call["error"]["message"]
    agent = next(e for e in events if e["type"] == "chain" and e["message"] == "billing_agent")
    assert agent["status"] == "fail" and agent["span_id"] == run_id
    assert events[-1]["type"] == "complete" and events[-1]["status"] == "fail"
    assert run_status(flightrec_server, run_id) == "failed"


def test_content_can_be_left_out(flightrec_server: Any) -> None:
    model = FakeMessagesListChatModel(responses=[AIMessage(content="secret answer")])
    with flightrec.Recorder(flightrec_server.client(), flush_interval=0.05) as recorder:
        handler = FlightrecCallbackHandler(recorder, run_id="lc-quiet", include_content=False)
        model.invoke([SystemMessage(content="s"), HumanMessage(content="secret question")], config={"callbacks": [handler]})
        assert recorder.flush(timeout=10).complete
    events = audit_log(flightrec_server, "lc-quiet")
    assert [e["type"] for e in events] == ["start", "llm_call", "complete"]
    assert "secret" not in json.dumps(events)


def test_an_async_invocation(flightrec_server: Any) -> None:
    import asyncio

    model = FakeMessagesListChatModel(responses=[
        AIMessage(content="", tool_calls=[{"name": "lookup_invoice", "args": {"number": 7}, "id": "call_7"}]),
        AIMessage(content="Invoice 7 is paid."),
    ])
    with flightrec.Recorder(flightrec_server.client(), flush_interval=0.05) as recorder:
        handler = FlightrecCallbackHandler(recorder, run_id="lc-async")
        answer = asyncio.run(make_agent(model).ainvoke({"question": "Invoice 7?"}, config={"callbacks": [handler]}))
        assert answer == "Invoice 7 is paid."
        assert recorder.flush(timeout=10).complete
    events = audit_log(flightrec_server, "lc-async")
    assert sorted(e["type"] for e in events) == sorted(["start", "chain", "chain", "llm_call", "tool_call", "llm_call", "complete"])
    agent = next(e for e in events if e["message"] == "billing_agent" and e["type"] == "chain")
    assert all(e["parent_span_id"] == agent["span_id"] for e in events if e["type"] in ("llm_call", "tool_call"))
