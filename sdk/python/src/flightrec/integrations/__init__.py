"""Record agent frameworks' runs into flightrec.

- `flightrec.integrations.openai_agents.FlightrecTracingProcessor`: an OpenAI
  Agents SDK tracing processor (extra `flightrec[openai-agents]`).
- `flightrec.integrations.langchain.FlightrecCallbackHandler`: a LangChain
  callback handler (extra `flightrec[langchain]`).

Each is imported on its own, so that neither framework is needed by the other.
"""
