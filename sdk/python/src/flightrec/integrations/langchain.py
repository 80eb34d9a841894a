"""A LangChain callback handler that records each top-level invocation as one
flightrec run.

    from flightrec.integrations.langchain import FlightrecCallbackHandler

    recorder = flightrec.Recorder(flightrec.Client())
    chain.invoke(inputs, config={"callbacks": [FlightrecCallbackHandler(recorder)]})

The top-level LangChain run's id is the flightrec run id (or give `run_id=`);
it opens with `start` and closes with `complete` (`fail` if it raised). Every
LangChain run inside becomes one event when it ends, at the time it started,
with `duration_ms`, `span_id` (its run id) and `parent_span_id`:

| LangChain run | event `type` |
| --- | --- |
| chain / runnable | `chain` (`input`, `output`) |
| chat model, LLM | `llm_call` (`input` messages or prompts, `output`, `metadata.model`, `token_usage`) |
| tool | `tool_call` (`tool`, `input`, `output`) |
| retriever | `retrieval` (`input` query, `output` documents) |

An error makes the event `status: fail` with its `error`.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult

from ._common import EventSink, duration_ms, iso, jsonable, utc_now

__all__ = ["FlightrecCallbackHandler"]

_log = logging.getLogger("flightrec.integrations")


@dataclass
class _Open:
    kind: str  # chain, llm_call, tool_call, retrieval
    name: str
    started: Any
    parent: Optional[str]
    root: str
    event: Dict[str, Any] = field(default_factory=dict)


class FlightrecCallbackHandler(BaseCallbackHandler):
    """Records LangChain chains, chat models, LLMs, tools and retrievers.

    `run_id` names the flightrec run (default: the top-level LangChain run's
    id, one flightrec run per top-level invocation); `agent_id` is set on
    every event; `include_content=False` leaves inputs and outputs out.
    The handler never raises into the chain.
    """

    raise_error = False  # a recording problem must never break the user's chain

    def __init__(
        self,
        recorder: EventSink,
        *,
        run_id: Optional[str] = None,
        agent_id: Optional[str] = None,
        include_content: bool = True,
    ) -> None:
        super().__init__()
        self._recorder = recorder
        self._run_id = run_id
        self._agent_id = agent_id
        self._include_content = include_content
        self._open: Dict[str, _Open] = {}
        self._lock = threading.Lock()

    # ---- starts ---------------------------------------------------------------

    def on_chain_start(self, serialized: Optional[Dict[str, Any]], inputs: Any, *, run_id: UUID,
                       parent_run_id: Optional[UUID] = None, tags: Optional[List[str]] = None,
                       metadata: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        self._start("chain", serialized, kwargs, run_id, parent_run_id, tags, metadata, {"input": jsonable(inputs)})

    def on_chat_model_start(self, serialized: Dict[str, Any], messages: List[List[BaseMessage]], *, run_id: UUID,
                            parent_run_id: Optional[UUID] = None, tags: Optional[List[str]] = None,
                            metadata: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        conversation = [[_message(m) for m in batch] for batch in messages]
        self._start("llm_call", serialized, kwargs, run_id, parent_run_id, tags, metadata,
                    {"input": conversation[0] if len(conversation) == 1 else conversation})

    def on_llm_start(self, serialized: Dict[str, Any], prompts: List[str], *, run_id: UUID,
                     parent_run_id: Optional[UUID] = None, tags: Optional[List[str]] = None,
                     metadata: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        self._start("llm_call", serialized, kwargs, run_id, parent_run_id, tags, metadata,
                    {"input": prompts[0] if len(prompts) == 1 else list(prompts)})

    def on_tool_start(self, serialized: Dict[str, Any], input_str: str, *, run_id: UUID,
                      parent_run_id: Optional[UUID] = None, tags: Optional[List[str]] = None,
                      metadata: Optional[Dict[str, Any]] = None, inputs: Optional[Dict[str, Any]] = None,
                      **kwargs: Any) -> None:
        self._start("tool_call", serialized, kwargs, run_id, parent_run_id, tags, metadata,
                    {"input": jsonable(inputs) if inputs is not None else _maybe_json(input_str)})

    def on_retriever_start(self, serialized: Dict[str, Any], query: str, *, run_id: UUID,
                           parent_run_id: Optional[UUID] = None, tags: Optional[List[str]] = None,
                           metadata: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        self._start("retrieval", serialized, kwargs, run_id, parent_run_id, tags, metadata, {"input": query})

    # ---- ends -----------------------------------------------------------------

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, {"output": jsonable(outputs)})

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        outputs = [[_generation(g) for g in batch] for batch in response.generations]
        flat = outputs[0][0] if len(outputs) == 1 and len(outputs[0]) == 1 else outputs
        extra: Dict[str, Any] = {"output": flat}
        llm_output = response.llm_output or {}
        usage = llm_output.get("token_usage") or llm_output.get("usage")
        if usage:
            extra["token_usage"] = jsonable(usage)
        self._end(run_id, extra)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        content = getattr(output, "content", output)  # a ToolMessage, or the tool's own value
        self._end(run_id, {"output": _maybe_json(content) if isinstance(content, str) else jsonable(content)})

    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, **kwargs: Any) -> None:
        docs = [{"page_content": getattr(d, "page_content", str(d)), "metadata": jsonable(getattr(d, "metadata", {}))}
                for d in documents]
        self._end(run_id, {"output": docs})

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, {}, error)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, {}, error)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, {}, error)

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, {}, error)

    # ---- the record -------------------------------------------------------------

    def _start(self, kind: str, serialized: Optional[Mapping[str, Any]], kwargs: Mapping[str, Any], run_id: UUID,
               parent_run_id: Optional[UUID], tags: Optional[List[str]], metadata: Optional[Dict[str, Any]],
               content: Dict[str, Any]) -> None:
        try:
            key = str(run_id)
            parent = str(parent_run_id) if parent_run_id is not None else None
            with self._lock:
                parent_open = self._open.get(parent) if parent is not None else None
                root = parent_open.root if parent_open is not None else key
                is_root = parent_open is None
            name = _name(serialized, kwargs, kind)
            started = utc_now()
            flightrec_run = self._run_id or root
            event: Dict[str, Any] = {"id": f"lc-{key}", "type": kind, "run_id": flightrec_run, "span_id": key,
                                     "time": iso(started), "message": name}
            if parent is not None and not is_root:
                event["parent_span_id"] = parent
            if self._agent_id:
                event["agent_id"] = self._agent_id
            meta: Dict[str, Any] = {"langchain_run_type": kind, "name": name}
            if tags:
                meta["tags"] = list(tags)
            if metadata:
                meta["langchain_metadata"] = jsonable(metadata)
            if kind == "llm_call":
                params = kwargs.get("invocation_params") or {}
                meta["model"] = params.get("model") or params.get("model_name") or params.get("_type") or name
            if kind == "tool_call":
                event["tool"] = name
            if self._include_content:
                event.update(content)
            event["metadata"] = meta
            with self._lock:
                self._open[key] = _Open(kind, name, started, parent, root, event)
            if is_root:
                start: Dict[str, Any] = {"id": f"lc-{key}:start", "type": "start", "run_id": flightrec_run,
                                         "time": iso(started), "message": name}
                if self._agent_id:
                    start["agent_id"] = self._agent_id
                self._record(start)
        except Exception as exc:  # never break the chain over a record
            _log.warning("flightrec: could not read a LangChain %s start: %s", kind, exc)

    def _end(self, run_id: UUID, content: Dict[str, Any], error: Optional[BaseException] = None) -> None:
        key = str(run_id)
        with self._lock:
            opened = self._open.pop(key, None)
        if opened is None:
            return
        try:
            event = opened.event
            ended = utc_now()
            took = duration_ms(opened.started, ended)
            if took is not None:
                event["duration_ms"] = took
            if self._include_content:
                event.update(content)
            elif "token_usage" in content:
                event["token_usage"] = content["token_usage"]
            if "token_usage" in event:
                event["metadata"]["token_usage"] = event.pop("token_usage")
            if error is not None:
                event["status"] = "fail"
                event["error"] = {"message": f"{type(error).__name__}: {error}"}
            self._record(event)
            if opened.root == key:
                complete: Dict[str, Any] = {"id": f"lc-{key}:complete", "type": "complete", "run_id": event["run_id"],
                                            "time": iso(ended), "status": "fail" if error is not None else "ok",
                                            "message": opened.name}
                if self._agent_id:
                    complete["agent_id"] = self._agent_id
                self._record(complete)
        except Exception as exc:
            _log.warning("flightrec: could not record a LangChain %s: %s", opened.kind, exc)

    def _record(self, event: Mapping[str, Any]) -> None:
        try:
            self._recorder.record(event)
        except Exception as exc:  # a closed or full recorder must not stop the chain
            _log.warning("flightrec: could not record %s event %s: %s", event.get("type"), event.get("id"), exc)


def _name(serialized: Optional[Mapping[str, Any]], kwargs: Mapping[str, Any], kind: str) -> str:
    name = kwargs.get("name")
    if isinstance(name, str) and name:
        return name
    if serialized:
        if isinstance(serialized.get("name"), str):
            return str(serialized["name"])
        ident = serialized.get("id")
        if isinstance(ident, list) and ident:
            return str(ident[-1])
    return kind


def _message(message: BaseMessage) -> Dict[str, Any]:
    record: Dict[str, Any] = {"role": message.type, "content": jsonable(message.content)}
    tool_calls = getattr(message, "tool_calls", None)
    if tool_calls:
        record["tool_calls"] = jsonable(tool_calls)
    tool_call_id = getattr(message, "tool_call_id", None)
    if tool_call_id:
        record["tool_call_id"] = tool_call_id
    return record


def _generation(generation: Any) -> Any:
    message = getattr(generation, "message", None)
    if isinstance(message, BaseMessage):
        return _message(message)
    return getattr(generation, "text", jsonable(generation))


def _maybe_json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value
