"""A local HTTP server that speaks the OpenAI chat-completions protocol, for testing core.llm's callers
against the real client (the remote model cannot exist here). Behaviours: answer with a given text,
answer malformed JSON, answer an HTTP error, answer slowly, or be down (closed port).

    with llm_server(answer="business") as server:
        settings.LLM_BASE_URL = server.base_url
        ...
        server.requests  # the JSON bodies received, in order
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if server.delay:
            time.sleep(server.delay)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, b'{"error": {"message": "not found"}}')
            return
        if server.status != 200:
            self._send(server.status, b'{"error": {"message": "server error"}}')
            return
        if server.raw is not None:
            self._send(200, server.raw)
            return
        answer = server.answer(body) if callable(server.answer) else server.answer
        payload = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": body.get("model", ""),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
        }
        self._send(200, json.dumps(payload).encode())

    def _send(self, status, data: bytes):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


@contextlib.contextmanager
def llm_server(*, answer="", raw: bytes | None = None, status: int = 200, delay: float = 0.0):
    """`answer`: the assistant's text, or a function of the request body returning it; `raw`: bytes
    sent instead of a chat completion (malformed answers); `status`: an HTTP error; `delay`: seconds
    before answering. `base_url` ends in /v1 like real providers'."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.requests, server.answer, server.raw, server.status, server.delay = [], answer, raw, status, delay
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A base URL where nothing listens (the model is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
