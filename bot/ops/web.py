"""The web page with the chat widget: `python -m bot web` (port WEB_PORT, default 8080).

Serves a small demo host page and the widget files (web/widget/ and the
socket.io client from web/node_modules, installed by `npm ci`); nothing comes
from a CDN. The widget talks to Rasa's socket.io channel directly
(channels.socketio), at `--socket-url` (default PUBLIC_BASE_URL).

In development (APP_ENV=development, nothing else) `POST /demo/token` mints a
widget token, so a developer can "log in as a demo borrower". It answers the
same for any well-formed loan reference, on file or not, so it tells nobody
which loans exist; a token for an unknown loan gets the same date-of-birth
question and then the same "details don't match" as a wrong date. In
production that route does not exist: the lender's own app signs the tokens.
"""

from __future__ import annotations

import html
import json
import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from bot.domain.clock import utcnow
from bot.domain.identity import widget_token
from bot.settings import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)

WEB = PROJECT_ROOT / "web"
SOCKET_IO_CLIENT = WEB / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
STATIC = {
    "/widget/chat-widget.js": (WEB / "widget" / "chat-widget.js", "text/javascript"),
    "/widget/chat-widget.css": (WEB / "widget" / "chat-widget.css", "text/css"),
    "/widget/socket.io.min.js": (SOCKET_IO_CLIENT, "text/javascript"),
    "/demo.js": (WEB / "demo.js", "text/javascript"),
    "/demo.css": (WEB / "demo.css", "text/css"),
}
MAX_BODY_BYTES = 1024


def websocket_origin(socket_url: str) -> str:
    """ws(s)://host:port of the Rasa server, for the page's Content-Security-Policy."""
    parts = urlsplit(socket_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}"


class WidgetSite:
    """What the server answers; kept apart from the HTTP plumbing so it is easy to test."""

    def __init__(self, settings: Settings, socket_url: str):
        self.settings = settings
        self.socket_url = socket_url.rstrip("/")
        self.demo_login = settings.app_env == "development"

    def page(self) -> bytes:
        text = (WEB / "index.html").read_text(encoding="utf-8")
        text = text.replace("{{SOCKET_URL}}", html.escape(self.socket_url, quote=True))
        text = text.replace("{{DEMO_LOGIN}}", "on" if self.demo_login else "off")
        text = text.replace("{{LENDER_NAME}}", html.escape(self.settings.lender_name, quote=True))
        return text.encode()

    def csp(self) -> str:
        return (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {websocket_origin(self.socket_url)}; "
            "base-uri 'none'; form-action 'none'; object-src 'none'"
        )

    def demo_token(self, body: bytes) -> tuple[int, dict]:
        """Development only: a widget token for a loan reference, as a host app would sign it.

        The loan store is not consulted: the answer depends only on the shape of
        the reference, never on whether that loan exists.
        """
        from bot.domain.parsing import normalise_loan_ref

        try:
            data = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError, RecursionError):
            return HTTPStatus.BAD_REQUEST, {"error": "expected JSON"}
        raw = data.get("loan_ref") if isinstance(data, dict) else None
        loan_ref = normalise_loan_ref(raw) if isinstance(raw, str) and len(raw) <= 32 else None
        if loan_ref is None:
            return HTTPStatus.BAD_REQUEST, {"error": "loan_ref must be a loan reference like LN-10001"}
        token = widget_token(loan_ref, self.settings.widget_jwt_secret, now=utcnow())
        return HTTPStatus.OK, {"token": token, "loan_ref": loan_ref}


def make_handler(site: WidgetSite):
    class Handler(BaseHTTPRequestHandler):
        server_version = "widget"
        sys_version = ""

        def log_message(self, format, *args):
            logger.debug("%s %s", self.address_string(), format % args)

        def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, data: dict) -> None:
            self._send(status, json.dumps(data).encode(), "application/json", {"Cache-Control": "no-store"})

        def do_GET(self):
            path = urlsplit(self.path).path
            if path in ("/", "/index.html"):
                self._send(
                    200,
                    site.page(),
                    "text/html; charset=utf-8",
                    {"Content-Security-Policy": site.csp(), "Cache-Control": "no-store"},
                )
            elif path == "/health":
                self._json(200, {"status": "ok"})
            elif path in STATIC and STATIC[path][0].is_file():
                file, content_type = STATIC[path]
                self._send(200, file.read_bytes(), f"{content_type}; charset=utf-8")
            else:
                self._json(404, {"error": "not found"})

        do_HEAD = do_GET

        def do_POST(self):
            path = urlsplit(self.path).path
            if path != "/demo/token" or not site.demo_login:
                self._json(404, {"error": "not found"})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY_BYTES:
                self._json(413, {"error": "too large"})
                return
            try:
                status, data = site.demo_token(self.rfile.read(length))
            except Exception as exc:  # never a 500 with a traceback
                logger.error("demo token failed: %s", type(exc).__name__)
                status, data = HTTPStatus.SERVICE_UNAVAILABLE, {"error": "unavailable"}
            self._json(status, data)

    return Handler


def serve(settings: Settings, *, host: str, port: int, socket_url: str) -> None:
    if not SOCKET_IO_CLIENT.is_file():
        raise SystemExit("web/node_modules is missing: run `npm ci` in web/ (scripts/run.sh does).")
    site = WidgetSite(settings, socket_url)
    server = ThreadingHTTPServer((host, port), make_handler(site))
    print(f"Chat widget page on http://{host}:{port}/ (talking to {site.socket_url})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
