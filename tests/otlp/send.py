"""Sends one hand-built GenAI agent run to flightrec with the OpenTelemetry
Python SDK and its OTLP/HTTP protobuf exporters, configured only by the
standard environment (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS),
as a user would. The spans and log records are exported twice, as an
exporter's retry would; prints what it sent and each export's result as
JSON, and fails unless every export succeeded."""

import json
import sys

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
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

resource = Resource.create({"service.name": "weather-agent-py"})
spans = InMemorySpanExporter()
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
tracer = tracer_provider.get_tracer("flightrec.tests.otlp")
logs = InMemoryLogRecordExporter()
logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
logger = logger_provider.get_logger("flightrec.tests.otlp")

ids = {}
with tracer.start_as_current_span(
    "invoke_agent weather-agent",
    attributes={
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.id": "agent-py",
        "gen_ai.agent.name": "weather-agent",
        "gen_ai.provider.name": "openai",
    },
) as agent:
    ids["agent"] = agent.get_span_context().span_id
    logger.emit(
        event_name="gen_ai.user.message",
        body={"content": "What is the weather in Paris?"},
        severity_number=SeverityNumber.INFO,
    )
    with tracer.start_as_current_span(
        "chat gpt-4o",
        kind=trace.SpanKind.CLIENT,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.provider.name": "openai",
            "gen_ai.usage.input_tokens": 120,
            "gen_ai.usage.output_tokens": 30,
            "gen_ai.input.messages": json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": "What is the weather in Paris?"}]}]
            ),
            "gen_ai.output.messages": json.dumps(
                [{"role": "assistant", "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather"}]}]
            ),
        },
    ) as chat:
        ids["chat"] = chat.get_span_context().span_id
    with tracer.start_as_current_span(
        "execute_tool get_weather",
        attributes={
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "get_weather",
            "gen_ai.tool.call.id": "call_1",
            "gen_ai.tool.call.arguments": json.dumps(
                {"city": "Paris", "api_key": "wx-secret-0123456789abcdef"}
            ),
            "gen_ai.tool.call.result": json.dumps({"temp_c": 21}),
        },
    ) as tool:
        ids["tool"] = tool.get_span_context().span_id
    logger.emit(body="agent finished", severity_number=SeverityNumber.WARN)
    trace_id = agent.get_span_context().trace_id

finished_spans = spans.get_finished_spans()
finished_logs = logs.get_finished_logs()
span_exporter = OTLPSpanExporter()
log_exporter = OTLPLogExporter()
results = []
for _ in range(2):  # the second time is a retry of the same data
    results.append(span_exporter.export(finished_spans) == SpanExportResult.SUCCESS)
    results.append(log_exporter.export(finished_logs) == LogRecordExportResult.SUCCESS)

print(
    json.dumps(
        {
            "trace_id": format(trace_id, "032x"),
            "spans": {k: format(v, "016x") for k, v in ids.items()},
            "span_count": len(finished_spans),
            "log_count": len(finished_logs),
            "exports_succeeded": results,
        }
    )
)
sys.exit(0 if all(results) else 1)
