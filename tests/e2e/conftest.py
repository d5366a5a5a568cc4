"""Start the real action server and Rasa server on free local ports with a fresh database.

Needs a trained model: RASA_MODEL (scripts/test.sh sets it) or the newest file in models/.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.adapters.database import Database
from bot.adapters.store import LoanStore
from bot.domain.clock import local_today
from bot.ops.demo import seed_demo
from bot.ops.endpoints import server_args, write_endpoints
from bot.ops.migrate import upgrade
from bot.settings import Settings
from tests.e2e.platform_fake import PlatformFake
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port(*offsets: int) -> int:
    return free_port(*offsets)


def log_tails(work: Path | None, chars: int = 4000) -> list[tuple[str, str]]:
    """The end of each server log in `work`, for a failing test's report."""
    if work is None:
        return []
    return [(f"log {p.name}", p.read_text(errors="replace")[-chars:]) for p in sorted(work.glob("*.log"))]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing end-to-end test shows the servers' logs (CI keeps nothing else)."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for value in getattr(item, "funcargs", {}).values():
            for title, text in getattr(value, "log_tails", lambda: [])():
                report.sections.append((title, text))


def _model() -> Path:
    env = os.environ.get("RASA_MODEL")
    if env:
        return Path(env)
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.skip("no trained model: run scripts/test.sh (or `rasa train`) first")
    return models[-1]


def _wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early; see {log}:\n" + log.read_text()[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"server did not answer {url} within {timeout}s; see {log}")


# Secrets and platform addresses the servers run with in these tests. The
# messaging platforms' APIs are a local fake (tests/e2e/platform_fake.py).
TEST_SETTINGS = {
    "RASA_TOKEN": "e2e-rasa-token",
    "ACTION_SERVER_SECRET": "e2e-action-secret",
    "WIDGET_JWT_SECRET": "e2e-widget-secret",
    "CHANNEL_IDENTITY_SECRET": "e2e-identity-secret",
    "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000e2e",
    "TWILIO_AUTH_TOKEN": "e2e-twilio-auth-token",
    "TWILIO_SMS_NUMBER": "+15005550006",
    "TWILIO_WHATSAPP_NUMBER": "whatsapp:+14155238886",
    "TELEGRAM_BOT_TOKEN": "123456:e2e-telegram-token",
    "TELEGRAM_BOT_NAME": "acme_lending_bot",
    "TELEGRAM_WEBHOOK_SECRET": "e2e-telegram-secret",
    "PAYMENT_WEBHOOK_SECRET": "e2e-payment-webhook-secret",
    "WECHAT_TOKEN": "e2eWeChatToken",
    "WECHAT_APP_ID": "wxe2e0000000000000",
    "WECHAT_APP_SECRET": "e2e-wechat-app-secret",
    # Encrypted mode on: encrypted messages are answered encrypted, plaintext ones in plaintext.
    "WECHAT_ENCODING_AES_KEY": "e2eWeChatEncodingAesKey0123456789abcdefghij",
    "WECHAT_TEMPLATE_ID": "e2e-reminder-template",
}


class Servers:
    def __init__(
        self,
        rasa_url: str,
        database_url: str,
        platform: PlatformFake | None = None,
        actions_url: str = "",
        work: Path | None = None,
    ):
        self.rasa_url = rasa_url
        self.work = work  # trackers.db, rasa.log and actions.log are here
        self.database_url = database_url
        self.platform = platform
        self.actions_url = actions_url
        self.settings = dict(TEST_SETTINGS)
        self.store = LoanStore(Database(database_url))
        self._next_ref = 30000

    def log_tails(self) -> list[tuple[str, str]]:
        return log_tails(self.work)

    def new_loan(
        self,
        *,
        overdue="250.00",
        outstanding="3200.00",
        days_past_due=20,
        product="personal_loan",
        phone: str | None = None,
        telegram_chat_id: str | None = None,
        wechat_openid: str | None = None,
        preferred_channel: str | None = None,
        language: str = "en",
        currency: str = "GBP",
        timezone: str = "Europe/London",
    ) -> str:
        """A fresh loan for one test (borrower born 1 June 1980), so tests don't share state.

        `phone` / `telegram_chat_id` / `wechat_openid` let a messaging channel recognise the borrower."""
        self._next_ref += 1
        ref = f"LN-{self._next_ref}"
        self.store.upsert_loans(
            [
                {
                    "loan_ref": ref,
                    "borrower_name": f"Test Borrower {self._next_ref}",
                    "date_of_birth": date(1980, 6, 1),
                    "phone": phone,
                    "email": None,
                    "telegram_chat_id": telegram_chat_id,
                    "wechat_openid": wechat_openid,
                    "preferred_channel": preferred_channel,
                    "timezone": timezone,
                    "language": language,
                    "product": product,
                    "currency": currency,
                    "principal": Decimal("5000.00"),
                    "outstanding_balance": Decimal(outstanding),
                    "overdue_amount": Decimal(overdue),
                    "days_past_due": days_past_due,
                    "next_due_date": local_today(timezone) + timedelta(days=10),
                }
            ]
        )
        return ref

    def send(self, sender: str, message: str) -> list[dict]:
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
            return json.loads(response.read())

    def say(self, sender: str, message: str) -> str:
        """Send a message; return all reply texts joined (buttons listed as [title])."""
        parts = []
        for reply in self.send(sender, message):
            if reply.get("text"):
                parts.append(reply["text"])
            for button in reply.get("buttons", []):
                parts.append(f"[{button['title']}]")
        return "\n".join(parts)


@pytest.fixture(scope="session")
def platform() -> PlatformFake:
    fake = PlatformFake()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def servers(tmp_path_factory, platform) -> Servers:
    # Rasa's SQL tracker store (masking personal data) on SQLite. Logs at info level:
    # debug logging made every turn about 40% slower; tests/e2e/test_privacy.py starts
    # its own servers at debug level to read their logs for personal data.
    work = tmp_path_factory.mktemp("e2e")
    with running_servers(work, platform, tracker_store_url=f"sqlite:///{work / 'trackers.db'}", debug=False) as started:
        yield started


@contextlib.contextmanager
def running_servers(
    work: Path, platform: PlatformFake, tracker_store_url: str | None = None, *, debug: bool = False
) -> Iterator[Servers]:
    """The action server and Rasa on a fresh seeded database in `work`; the
    tracker store is the embedded default (in memory) unless a URL is given.
    `debug`: both servers log at debug level (every message and prediction)."""
    model = _model()
    database_url = f"sqlite:///{work / 'loans.db'}"
    upgrade(database_url)
    seed_demo(LoanStore(Database(database_url)), local_today("Europe/London"))

    actions_port, rasa_port = _free_port(), _free_port()
    web_port = _free_port()  # the widget page's (tests/e2e/test_widget.py): the only origin allowed by default
    endpoints = write_endpoints(
        work / "endpoints.yml",
        Settings(
            action_server_secret=TEST_SETTINGS["ACTION_SERVER_SECRET"],
            tracker_store_url=tracker_store_url,
            # ACTIONS_IN_PROCESS=true runs the e2e tests with the actions in Rasa (docs/deploy.md)
            actions_in_process=os.environ.get("ACTIONS_IN_PROCESS", "").strip().lower() in ("1", "true", "yes", "on"),
        ),
        action_server_url=f"http://127.0.0.1:{actions_port}/webhook",
    )
    env = {
        **os.environ,
        **TEST_SETTINGS,
        "DATABASE_URL": database_url,
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{rasa_port}",
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "TWILIO_API_BASE_URL": f"{platform.url}/twilio",
        "TELEGRAM_API_BASE_URL": f"{platform.url}/telegram",
        "WECHAT_API_BASE_URL": f"{platform.url}/wechat",
        "WEB_PORT": str(web_port),
    }

    actions_log, rasa_log = work / "actions.log", work / "rasa.log"
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "actions.server", "--port", str(actions_port), *(["--debug"] if debug else [])],
                cwd=ROOT,
                env=env,
                stdout=actions_log.open("w"),
                stderr=subprocess.STDOUT,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "rasa"),
                    "run",
                    "--model",
                    str(model),
                    "--port",
                    str(rasa_port),
                    "--endpoints",
                    str(endpoints),
                    "--credentials",
                    str(ROOT / "credentials.yml"),
                    # as scripts/run.sh: loopback, CORS for the widget page only, the API with a token
                    *server_args(Settings(rasa_token=TEST_SETTINGS["RASA_TOKEN"], web_port=web_port)),
                    *(["--debug"] if debug else []),
                ],
                cwd=ROOT,
                env=env,
                stdout=rasa_log.open("w"),
                stderr=subprocess.STDOUT,
            )
        )
        _wait_for(f"http://127.0.0.1:{actions_port}/health", procs[0], actions_log)
        _wait_for(f"http://127.0.0.1:{rasa_port}/webhooks/rest/", procs[1], rasa_log)
        started = Servers(
            f"http://127.0.0.1:{rasa_port}",
            database_url,
            platform,
            actions_url=f"http://127.0.0.1:{actions_port}",
            work=work,
        )
        started.settings["WEB_PORT"] = str(web_port)
        yield started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


async def hang_up(client) -> None:
    """Disconnect a python-socketio test client at once: its own `disconnect()` over
    long-polling waits for the open poll to end (the server's 25-second ping interval),
    which made each handshake test half a minute long."""
    await client.eio.disconnect(abort=True)
