"""A tiny OpenAI-compatible chat completions server for the tests: the
first question gets a tool call, a question that carries the tool's result
gets a final answer. Counts the requests it answered."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Stub:
    def __init__(self):
        self.requests = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                stub.requests.append(body)
                answered = any(m.get("role") == "tool" for m in body.get("messages", []))
                if answered:
                    message = {"role": "assistant", "content": "It is 21 degrees in Paris."}
                    finish, usage = "stop", {"prompt_tokens": 70, "completion_tokens": 12, "total_tokens": 82}
                else:
                    message = {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_weather_1",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})},
                            }
                        ],
                    }
                    finish, usage = "tool_calls", {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}
                answer = {
                    "id": f"chatcmpl-{len(stub.requests)}",
                    "object": "chat.completion",
                    "created": 1780000000,
                    "model": "gpt-4o-mini-2024-07-18",
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": usage,
                }
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"
