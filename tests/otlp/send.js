// Sends one hand-built GenAI agent run to flightrec with the OpenTelemetry
// Node SDK and its OTLP/HTTP JSON exporters, configured only by the
// standard environment (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS),
// as a user would. The spans and log records are exported twice, as an
// exporter's retry would; prints what it sent and each export's result as
// JSON, and fails unless every export succeeded.
'use strict';

const { ROOT_CONTEXT, trace, SpanKind } = require('@opentelemetry/api');
const { SeverityNumber } = require('@opentelemetry/api-logs');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} = require('@opentelemetry/sdk-trace-base');
const {
  LoggerProvider,
  InMemoryLogRecordExporter,
  SimpleLogRecordProcessor,
} = require('@opentelemetry/sdk-logs');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-http');

const resource = resourceFromAttributes({ 'service.name': 'weather-agent-js' });
const spans = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({
  resource,
  spanProcessors: [new SimpleSpanProcessor(spans)],
}).getTracer('flightrec.tests.otlp');
const logs = new InMemoryLogRecordExporter();
const loggerProvider = new LoggerProvider({
  resource,
  processors: [new SimpleLogRecordProcessor({ exporter: logs })],
});
const logger = loggerProvider.getLogger('flightrec.tests.otlp');

const agent = tracer.startSpan('invoke_agent weather-agent', {
  attributes: {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.id': 'agent-js',
    'gen_ai.agent.name': 'weather-agent',
    'gen_ai.provider.name': 'openai',
  },
});
const inAgent = trace.setSpan(ROOT_CONTEXT, agent);
logger.emit({
  eventName: 'gen_ai.user.message',
  body: { content: 'What is the weather in Oslo?' },
  severityNumber: SeverityNumber.INFO,
  context: inAgent,
});
const chat = tracer.startSpan(
  'chat gpt-4o',
  {
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.provider.name': 'openai',
      'gen_ai.usage.input_tokens': 80,
      'gen_ai.usage.output_tokens': 12,
      'gen_ai.input.messages': JSON.stringify([
        { role: 'user', parts: [{ type: 'text', content: 'What is the weather in Oslo?' }] },
      ]),
    },
  },
  inAgent,
);
chat.end();
const tool = tracer.startSpan(
  'execute_tool get_weather',
  {
    attributes: {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'get_weather',
      'gen_ai.tool.call.id': 'call_7',
      'gen_ai.tool.call.arguments': JSON.stringify({ city: 'Oslo' }),
      'gen_ai.tool.call.result': JSON.stringify({ temp_c: 4 }),
    },
  },
  inAgent,
);
tool.end();
logger.emit({ body: 'agent finished', severityNumber: SeverityNumber.WARN, context: inAgent });
agent.end();

function exported(exporter, items) {
  return new Promise((resolve) => exporter.export(items, (result) => resolve(result.code === 0)));
}

(async () => {
  await loggerProvider.forceFlush();
  const spanExporter = new OTLPTraceExporter();
  const logExporter = new OTLPLogExporter();
  const finishedSpans = spans.getFinishedSpans();
  const finishedLogs = logs.getFinishedLogRecords();
  const results = [];
  for (let i = 0; i < 2; i++) {
    // The second time is a retry of the same data.
    results.push(await exported(spanExporter, finishedSpans));
    results.push(await exported(logExporter, finishedLogs));
  }
  await spanExporter.shutdown();
  await logExporter.shutdown();
  console.log(
    JSON.stringify({
      trace_id: agent.spanContext().traceId,
      spans: {
        agent: agent.spanContext().spanId,
        chat: chat.spanContext().spanId,
        tool: tool.spanContext().spanId,
      },
      span_count: finishedSpans.length,
      log_count: finishedLogs.length,
      exports_succeeded: results,
    }),
  );
  process.exit(results.every(Boolean) ? 0 : 1);
})();
