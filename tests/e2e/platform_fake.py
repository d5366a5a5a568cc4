"""A local stand-in for the messaging platforms' HTTP APIs (Twilio, Telegram).

The Rasa server under test is pointed at it (TWILIO_API_BASE_URL,
TELEGRAM_API_BASE_URL), so everything the assistant sends to a borrower on
those channels is captured here instead of leaving the machine.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Sent:
    """One API call the assistant made: platform, method path, and its parameters."""

    platform: str  # twilio or telegram
    path: str
    params: dict
    at: float = field(default_factory=time.time)


class PlatformFake:
    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._next_id = 1000

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def messages_to(self, platform: str, recipient: str) -> list[Sent]:
        """What was sent to one phone number (Twilio `To`) or chat id (Telegram `chat_id`)."""
        with self._lock:
            return [
                s
                for s in self.sent
                if s.platform == platform and str(s.params.get("To") or s.params.get("chat_id") or "") == recipient
            ]

    def texts_to(self, platform: str, recipient: str) -> list[str]:
        """The message texts sent to one recipient, oldest first (Twilio `Body`, Telegram `text`)."""
        return [s.params.get("Body") or s.params.get("text") or "" for s in self.messages_to(platform, recipient)]

    def _record(self, platform: str, path: str, params: dict) -> int:
        with self._lock:
            self.sent.append(Sent(platform, path, params))
            self._next_id += 1
            return self._next_id

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace")
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[-1] for k, v in parse_qs(raw).items()}
                if self.path.startswith("/twilio/"):
                    self._reply(201, fake._twilio_message(self.path, params))
                elif self.path.startswith("/telegram/"):
                    self._reply(200, fake._telegram_result(self.path, params))
                else:
                    self._reply(404, {"error": "unknown platform"})

            do_GET = do_POST

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _twilio_message(self, path: str, params: dict) -> dict:
        message_id = self._record("twilio", path, params)
        return {
            "sid": f"SM{message_id:032d}",
            "account_sid": path.split("/Accounts/")[-1].split("/")[0],
            "to": params.get("To"),
            "from": params.get("From"),
            "body": params.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": "Mon, 23 Nov 2026 12:00:00 +0000",
            "uri": path,
        }

    def _telegram_result(self, path: str, params: dict) -> dict:
        message_id = self._record("telegram", path, params)
        if not path.endswith("/sendMessage"):  # answerCallbackQuery, setWebhook ...
            return {"ok": True, "result": True}
        chat_id = params.get("chat_id")
        return {
            "ok": True,
            "result": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": int(chat_id) if str(chat_id or "").lstrip("-").isdigit() else 0, "type": "private"},
                "text": params.get("text", ""),
            },
        }
