"""A small tool-using agent on the real `openai` Python client, traced by
a real instrumentation — `opentelemetry-instrumentation-openai-v2` (GenAI
conventions; the default) or `openinference-instrumentation-openai`
(argument `openinference`) — against the OpenAI-compatible stub in
openai_stub.py (a tool call, then a final answer). The agent loop opens an
agent span and a tool span in the same convention, as agent frameworks
do; the model calls' spans (and, for openai-v2, their content events) come
from the instrumentation. Everything is exported to flightrec twice (a
retry) with the OTLP/HTTP protobuf exporters configured by the standard
environment; prints what happened as JSON, and fails unless every export
succeeded."""

import json
import os
import sys

os.environ.setdefault("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")

import openai
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from openai_stub import Stub

resource = Resource.create({"service.name": "openai-agent"})
spans = InMemorySpanExporter()
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
logs = InMemoryLogRecordExporter()
logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
tracer = tracer_provider.get_tracer("flightrec.tests.agent")
OPENINFERENCE = sys.argv[1:] == ["openinference"]
if OPENINFERENCE:
    from openinference.instrumentation.openai import OpenAIInstrumentor as OpenInferenceInstrumentor

    OpenInferenceInstrumentor().instrument(tracer_provider=tracer_provider)
    AGENT = {"openinference.span.kind": "AGENT", "agent.name": "weather-agent"}
else:
    OpenAIInstrumentor().instrument(tracer_provider=tracer_provider, logger_provider=logger_provider)
    AGENT = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "weather-agent"}


def tool_attributes(call):
    if OPENINFERENCE:
        return {
            "openinference.span.kind": "TOOL",
            "tool.name": call.function.name,
            "tool_call.id": call.id,
            "input.value": call.function.arguments,
            "input.mime_type": "application/json",
        }
    return {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": call.function.name,
        "gen_ai.tool.call.id": call.id,
        "gen_ai.tool.call.arguments": call.function.arguments,
    }

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def get_weather(city):
    return {"city": city, "temp_c": 21}


stub = Stub()
client = openai.OpenAI(base_url=stub.base_url, api_key="sk-test-0000000000000000000000000000")
messages = [{"role": "user", "content": "What is the weather in Paris?"}]
with tracer.start_as_current_span("invoke_agent weather-agent", attributes=AGENT) as agent:
    while True:
        answer = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
        message = answer.choices[0].message
        if not message.tool_calls:
            final = message.content
            break
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            arguments = json.loads(call.function.arguments)
            with tracer.start_as_current_span(
                f"execute_tool {call.function.name}", attributes=tool_attributes(call)
            ) as tool:
                result = get_weather(**arguments)
                if OPENINFERENCE:
                    tool.set_attribute("output.value", json.dumps(result))
                    tool.set_attribute("output.mime_type", "application/json")
                else:
                    tool.set_attribute("gen_ai.tool.call.result", json.dumps(result))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    agent.set_attribute(
        "output.value" if OPENINFERENCE else "gen_ai.output.messages",
        json.dumps([{"role": "assistant", "content": final}]),
    )
    trace_id = agent.get_span_context().trace_id

finished_spans = spans.get_finished_spans()
finished_logs = logs.get_finished_logs()
span_exporter = OTLPSpanExporter()
log_exporter = OTLPLogExporter()
results = []
for _ in range(2):
    results.append(span_exporter.export(finished_spans) == SpanExportResult.SUCCESS)
    results.append(log_exporter.export(finished_logs) == LogRecordExportResult.SUCCESS)

print(
    json.dumps(
        {
            "trace_id": format(trace_id, "032x"),
            "final": final,
            "model_requests": len(stub.requests),
            "span_names": sorted(s.name for s in finished_spans),
            "log_count": len(finished_logs),
            "exports_succeeded": results,
        }
    )
)
sys.exit(0 if all(results) else 1)
