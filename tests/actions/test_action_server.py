"""The action server accepts only calls with the shared secret and never echoes a request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.ops.endpoints import SECRET_HEADER
from bot.ops.migrate import upgrade
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "unit-test-action-secret"
PERSONAL = "Amelia-Clarke-1985-03-12"  # stands for personal data inside a tracker


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    work = tmp_path_factory.mktemp("actions")
    database_url = f"sqlite:///{work / 'loans.db'}"
    upgrade(database_url)
    port = free_port()
    log = (work / "actions.log").open("w+")
    env = {**os.environ, "DATABASE_URL": database_url, "ACTION_SERVER_SECRET": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "actions.server", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("action server did not start")
    yield url, log
    proc.terminate()
    proc.wait(timeout=20)


def _post(url: str, body: bytes, headers: dict) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _call(action: str, tracker: object) -> bytes:
    return json.dumps(
        {"next_action": action, "sender_id": "t1", "tracker": tracker, "domain": {}, "version": "3.6.2"}
    ).encode()


def _tracker() -> dict:
    return {
        "sender_id": "t1",
        "slots": {"note": PERSONAL},
        "latest_message": {"text": PERSONAL},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": None,
    }


def test_health_is_open(action_server):
    url, _ = action_server
    with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
        assert response.status == 200


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: ""}])
def test_calls_without_the_secret_are_refused(action_server, headers):
    url, _ = action_server
    status, body = _post(f"{url}/webhook", _call("action_session_start", _tracker()), headers)
    assert status == 403
    assert PERSONAL not in body


@pytest.mark.parametrize("path", ["/actions", "/actions/", "/webhook/"])
def test_every_path_but_health_needs_the_secret(action_server, path):
    url, _ = action_server
    try:
        if path.startswith("/webhook"):
            status, _body = _post(f"{url}{path}", _call("action_session_start", _tracker()), {})
        else:
            urllib.request.urlopen(f"{url}{path}", timeout=5)
            status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 403


def test_a_call_with_the_secret_runs_the_action(action_server):
    url, _ = action_server
    status, body = _post(f"{url}/webhook", _call("action_session_start", _tracker()), {SECRET_HEADER: SECRET})
    assert status == 200
    responses = [r.get("response") for r in json.loads(body)["responses"]]
    assert "utter_intro" in responses


@pytest.mark.parametrize(
    "body",
    [
        b"{not json " + PERSONAL.encode(),
        _call("action_session_start", PERSONAL),  # a tracker that is not an object
        _call("action_session_start", {"sender_id": PERSONAL, "events": PERSONAL}),
        json.dumps([PERSONAL]).encode(),
    ],
)
def test_failures_never_echo_the_request(action_server, body):
    url, log = action_server
    status, text = _post(f"{url}/webhook", body, {SECRET_HEADER: SECRET})
    # Either a polite failure inside the action (200) or a 4xx; never a 500, never
    # the request in the answer.
    assert status in (200, 400, 404)
    assert PERSONAL not in text
    log.flush()
    log.seek(0)
    assert PERSONAL not in log.read()


def test_a_call_without_the_domain_uses_the_deployed_domain_yml(action_server):
    """Rasa sends no domain (enable_selective_domain); a form validation still
    finds its form's slots, from domain.yml."""
    url, _ = action_server
    tracker = {
        "sender_id": "t2",
        "slots": {"loan_ref": "ln-10001", "requested_slot": "loan_ref"},
        "latest_message": {"text": "ln-10001", "intent": {"name": "inform", "confidence": 1.0}, "entities": []},
        "events": [
            {"event": "active_loop", "name": "verify_form"},
            {"event": "slot", "name": "requested_slot", "value": "loan_ref"},
            {"event": "user", "text": "ln-10001", "parse_data": {"intent": {"name": "inform", "confidence": 1.0}}},
            {"event": "slot", "name": "loan_ref", "value": "ln-10001"},
        ],
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": "verify_form"},
        "latest_action_name": "action_listen",
    }
    body = json.dumps(
        {"next_action": "validate_verify_form", "sender_id": "t2", "tracker": tracker, "version": "3.6.21"}
    ).encode()
    status, text = _post(f"{url}/webhook", body, {SECRET_HEADER: SECRET})
    assert status == 200
    slots = {e["name"]: e["value"] for e in json.loads(text)["events"] if e["event"] == "slot"}
    assert slots.get("loan_ref") == "LN-10001"  # validated: the form's slots came from domain.yml
