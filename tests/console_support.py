"""What the console's HTTP tests share: a recording stand-in for Rasa's HTTP API, the
console served on a free port, and the log-in and CSRF steps an operator's browser takes."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
import uvicorn

from tests.ports import free_port

PASSWORD = "a long password"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class FakeRasa:
    """What the console asks of Rasa's HTTP API, recorded: a tracker per conversation,
    whose borrower speaks `language`."""

    def __init__(self, language: str = "en") -> None:
        self.language = language
        self.events: dict[str, list[dict]] = {}

    def tracker(self, conversation_id):
        events = self.events.setdefault(conversation_id, [])
        paused = False
        for e in events:
            paused = {"pause": True, "resume": False}.get(e["event"], paused)
        return {"events": events, "paused": paused, "slots": {"language": self.language}}

    def pause(self, conversation_id):
        self.events.setdefault(conversation_id, []).append({"event": "pause"})

    def resume(self, conversation_id):
        self.events.setdefault(conversation_id, []).append({"event": "resume"})

    def say(self, conversation_id, text, *, operator, response=None):
        metadata = {"operator": operator, **({"response": response} if response else {})}
        self.events.setdefault(conversation_id, []).append({"event": "bot", "text": text, "metadata": metadata})


@contextmanager
def serving(app) -> Iterator[str]:
    """The console app served on a free port for the block; yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


def csrf_in(html: str) -> str:
    return _CSRF.search(html).group(1)


def login(url: str, name: str, password: str = PASSWORD) -> tuple[requests.Session, requests.Response]:
    """A new browser session that tried to log in: the session and the log-in's answer."""
    s = requests.Session()
    page = s.get(f"{url}/login")
    answer = s.post(
        f"{url}/login", data={"csrf": csrf_in(page.text), "name": name, "password": password}, allow_redirects=False
    )
    return s, answer


def csrf_of(session: requests.Session, url: str, path: str = "/queue") -> str:
    return csrf_in(session.get(f"{url}{path}").text)
