"""A local OpenAI-compatible chat-completions server for tests (real HTTP, no mocks).

Modes: "good" (a valid analysis), "slow" (answers after `delay` seconds), "error" (HTTP 500),
"broken" (content that is not JSON), "wrong_enum" (an intent outside the taxonomy).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

GOOD_ANSWER: dict[str, Any] = {
    "sentiment": "positive",
    "intent": "praise",
    "priority": "low",
    "needs_response": False,
    "summary": "Покупатель доволен товаром.",
    "draft": "Здравствуйте! Спасибо за тёплые слова, нам очень приятно. Ждём вас снова.",
}


class FakeLLM:
    def __init__(self) -> None:
        self.mode = "good"
        self.delay = 0.0
        self.answer: dict[str, Any] = dict(GOOD_ANSWER)
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.prompt_tokens = 120
        self.completion_tokens = 45
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeLLM:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _content(self) -> str:
        if self.mode == "broken":
            return '{"sentiment": "positive", "intent": '
        if self.mode == "wrong_enum":
            return json.dumps({**self.answer, "intent": "compliment"}, ensure_ascii=False)
        return json.dumps(self.answer, ensure_ascii=False)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(body)
                fake.headers.append(dict(self.headers))
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": "not found"})
                    return
                if fake.mode == "slow":
                    threading.Event().wait(fake.delay)
                if fake.mode == "error":
                    self._send(500, {"error": {"message": "internal"}})
                    return
                self._send(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "model": body.get("model"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": fake._content()},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": fake.prompt_tokens,
                            "completion_tokens": fake.completion_tokens,
                            "total_tokens": fake.prompt_tokens + fake.completion_tokens,
                        },
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up (timeout test)

        return Handler


@contextmanager
def running_fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(name="fake_llm")
def fake_llm_fixture(settings: Any) -> Iterator[FakeLLM]:
    """A running fake LLM, with the settings pointing the `llm` engine at it."""
    with running_fake_llm() as fake:
        settings.LLM_ENGINE = "llm"
        settings.LLM_BASE_URL = fake.base_url
        settings.LLM_API_KEY = "sk-test-0000"
        settings.LLM_MODEL = "deepseek-chat"
        settings.LLM_TIMEOUT_SECONDS = 0.5
        settings.LLM_BREAKER_FAILURES = 3
        yield fake
