"""A local stand-in for the messaging platforms' HTTP APIs (Twilio, Telegram, WeChat).

The Rasa server under test is pointed at it (TWILIO_API_BASE_URL,
TELEGRAM_API_BASE_URL, WECHAT_API_BASE_URL), so everything the assistant sends
to a borrower on those channels is captured here instead of leaving the machine.

WeChat's side behaves as the Official Account API does where the assistant
relies on it: `stable_token` issues an access token, a token the fake has since
expired is refused (42001), a customer-service message to a follower whose
48-hour window is closed is refused (45015) while a template message goes.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Sent:
    """One API call the assistant made: platform, method path, and its parameters."""

    platform: str  # twilio, telegram or wechat
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
        # WeChat: the access tokens issued (the last is valid unless expired) and
        # the followers who have not written in 48 hours.
        self.wechat_tokens: list[str] = []
        self.wechat_token_valid = True
        self.wechat_window_closed: set[str] = set()

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
        """What was sent to one phone number (Twilio `To`), chat id (Telegram `chat_id`)
        or OpenID (WeChat `touser`)."""
        with self._lock:
            return [
                s
                for s in self.sent
                if s.platform == platform
                and str(s.params.get("To") or s.params.get("chat_id") or s.params.get("touser") or "") == recipient
            ]

    def texts_to(self, platform: str, recipient: str) -> list[str]:
        """The message texts sent to one recipient, oldest first (Twilio `Body`, Telegram `text`,
        WeChat's customer-service `text.content`)."""
        return [
            s.params.get("Body") or s.params.get("text") or "" if platform != "wechat" else wechat_text(s)
            for s in self.messages_to(platform, recipient)
        ]

    def expire_wechat_token(self) -> None:
        """WeChat refuses the token issued last from now on (42001), as when it expires early."""
        with self._lock:
            self.wechat_token_valid = False

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
                elif self.path.startswith("/wechat/"):
                    self._reply(200, fake._wechat_result(self.path, params))
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

    def _wechat_result(self, path: str, params: dict) -> dict:
        url = urlsplit(path)
        if url.path == "/wechat/cgi-bin/stable_token":
            with self._lock:
                if not self.wechat_tokens or not self.wechat_token_valid:
                    self.wechat_tokens.append(f"wx-token-{len(self.wechat_tokens) + 1}")
                    self.wechat_token_valid = True
                return {"access_token": self.wechat_tokens[-1], "expires_in": 7200}
        token = parse_qs(url.query).get("access_token", [""])[-1]
        with self._lock:
            current = self.wechat_tokens[-1] if self.wechat_tokens and self.wechat_token_valid else None
        if token != current:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if url.path == "/wechat/cgi-bin/message/custom/send":
            if params.get("touser") in self.wechat_window_closed:
                return {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}
            self._record("wechat", url.path, params)
            return {"errcode": 0, "errmsg": "ok"}
        if url.path == "/wechat/cgi-bin/message/template/send":
            return {"errcode": 0, "errmsg": "ok", "msgid": self._record("wechat", url.path, params)}
        return {"errcode": 40001, "errmsg": "unknown api"}


def wechat_text(sent: Sent) -> str:
    """The text of a WeChat message: a customer-service text's content, a template's field values."""
    if sent.path.endswith("/template/send"):
        return "\n".join(str(v.get("value", "")) for v in (sent.params.get("data") or {}).values())
    return str((sent.params.get("text") or {}).get("content", ""))
