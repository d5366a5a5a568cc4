"""Start the real action server and Rasa server on free local ports with a fresh database.

Needs a trained model: RASA_MODEL (scripts/test.sh sets it) or the newest file in models/.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.db import Database
from bot.demo import seed_demo
from bot.clock import local_today
from bot.migrate import upgrade
from bot.store import LoanStore

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


class Servers:
    def __init__(self, rasa_url: str, database_url: str):
        self.rasa_url = rasa_url
        self.database_url = database_url
        self.store = LoanStore(Database(database_url))
        self._next_ref = 30000

    def new_loan(self, *, overdue="250.00", outstanding="3200.00", days_past_due=20, product="personal_loan") -> str:
        """A fresh loan for one test (borrower born 1 June 1980), so tests don't share state."""
        self._next_ref += 1
        ref = f"LN-{self._next_ref}"
        self.store.upsert_loans([{
            "loan_ref": ref, "borrower_name": f"Test Borrower {self._next_ref}",
            "date_of_birth": date(1980, 6, 1), "phone": None, "email": None,
            "timezone": "Europe/London", "language": "en", "product": product, "currency": "GBP",
            "principal": Decimal("5000.00"), "outstanding_balance": Decimal(outstanding),
            "overdue_amount": Decimal(overdue), "days_past_due": days_past_due,
            "next_due_date": date.today() + timedelta(days=10),
        }])
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
def servers(tmp_path_factory) -> Servers:
    model = _model()
    work = tmp_path_factory.mktemp("e2e")
    database_url = f"sqlite:///{work / 'loans.db'}"
    upgrade(database_url)
    seed_demo(LoanStore(Database(database_url)), local_today("Europe/London"))

    actions_port, rasa_port = _free_port(), _free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n')
    env = {**os.environ, "DATABASE_URL": database_url, "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}

    actions_log, rasa_log = work / "actions.log", work / "rasa.log"
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
                cwd=ROOT, env=env, stdout=actions_log.open("w"), stderr=subprocess.STDOUT,
            )
        )
        procs.append(
            subprocess.Popen(
                [str(BIN / "rasa"), "run", "--model", str(model), "--port", str(rasa_port),
                 "--endpoints", str(endpoints), "--credentials", str(ROOT / "credentials.yml")],
                cwd=ROOT, env=env, stdout=rasa_log.open("w"), stderr=subprocess.STDOUT,
            )
        )
        _wait_for(f"http://127.0.0.1:{actions_port}/health", procs[0], actions_log)
        _wait_for(f"http://127.0.0.1:{rasa_port}/webhooks/rest/", procs[1], rasa_log)
        yield Servers(f"http://127.0.0.1:{rasa_port}", database_url)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
