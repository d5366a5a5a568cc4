"""A person taking a conversation over, through Rasa's own HTTP API (the console, issue 15).

- `pause` / `resume` append Rasa's own `pause` and `resume` events: while paused,
  Rasa logs what the borrower says and predicts nothing (its processor's
  `_should_handle_message`), so the assistant's state stays consistent and it
  goes on where it was after `resume`.
- `say` appends a bot utterance with `execute_side_effects` and
  `output_channel=latest`: Rasa sends it through the output channel of the
  channel the borrower last wrote on (the widget's socket.io room, SMS or
  WhatsApp through Twilio, Telegram, WeChat) and keeps it in the tracker.
- `events` reads the tracker, which lives in the tracker store shared by the
  replicas in production, so any replica answers.

Rasa's HTTP API must be on (`--enable-api`) with RASA_TOKEN (scripts/run.sh does).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

TIMEOUT_SECONDS = 15.0


class RasaUnavailable(Exception):
    """Rasa did not answer or refused; the message says what, for the operator."""


class RasaConversations:
    def __init__(self, rasa_url: str, token: str = "", timeout: float = TIMEOUT_SECONDS):
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _url(self, conversation_id: str, tail: str) -> str:
        # "+" and ":" stay as they are: Rasa's router does not unquote the path.
        return f"{self.rasa_url}/conversations/{quote(conversation_id, safe='+:')}/{tail}"

    def _params(self, **extra: str) -> dict[str, str]:
        return {**({"token": self.token} if self.token else {}), **extra}

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = requests.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise RasaUnavailable("the assistant did not answer in time") from None
        except requests.RequestException:
            raise RasaUnavailable("the assistant cannot be reached") from None
        if response.status_code != 200:
            raise RasaUnavailable(f"the assistant refused ({response.status_code})")
        try:
            return response.json()
        except ValueError:
            raise RasaUnavailable("the assistant gave an unreadable answer") from None

    def tracker(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's state: `events` since its last restart, `paused`, ..."""
        tracker = self._call("GET", self._url(conversation_id, "tracker"), params=self._params())
        return tracker if isinstance(tracker, dict) else {}

    def events(self, conversation_id: str) -> list[dict[str, Any]]:
        events = self.tracker(conversation_id).get("events")
        return events if isinstance(events, list) else []

    def _append(self, conversation_id: str, events: list[dict[str, Any]], **params: str) -> list[dict[str, Any]]:
        tracker = self._call(
            "POST", self._url(conversation_id, "tracker/events"), params=self._params(**params), json=events
        )
        found = tracker.get("events") if isinstance(tracker, dict) else None
        return found if isinstance(found, list) else []

    def is_paused(self, conversation_id: str) -> bool:
        return bool(self.tracker(conversation_id).get("paused"))

    def pause(self, conversation_id: str) -> None:
        self._append(conversation_id, [{"event": "pause"}])

    def resume(self, conversation_id: str) -> None:
        self._append(conversation_id, [{"event": "resume"}])

    def say(self, conversation_id: str, text: str, *, operator: str, response: str | None = None) -> None:
        """Send `text` to the borrower on their channel, as a bot utterance in the tracker
        (with the operator's name, and the domain response it renders, if any)."""
        metadata = {"operator": operator, **({"response": response} if response else {})}
        event = {"event": "bot", "text": text, "metadata": metadata}
        self._append(conversation_id, [event], output_channel="latest", execute_side_effects="true")
