"""Starting a conversation through Rasa's HTTP API, for reminders."""

from __future__ import annotations

from urllib.parse import quote

import requests

from bot.services.reminders import INTENT, ReminderFailed

# Longer than Rasa takes for a turn (its action calls give up after 10 s each).
RASA_TIMEOUT_SECONDS = 30.0


class RasaTrigger:
    """Starts a conversation through Rasa's HTTP API (POST /conversations/{id}/trigger_intent)."""

    def __init__(self, rasa_url: str, token: str = "", timeout: float = RASA_TIMEOUT_SECONDS):
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def __call__(self, conversation_id: str, connector: str, loan_ref: str, language: str | None = None) -> None:
        # "+" and ":" stay as they are: Rasa's router does not unquote the path.
        url = f"{self.rasa_url}/conversations/{quote(conversation_id, safe='+:')}/trigger_intent"
        params = {"output_channel": connector}
        if self.token:
            params["token"] = self.token
        entities = {"loan_ref": loan_ref}
        if language:
            entities["language"] = language  # read by action_set_reminder_language
        body = {"name": INTENT, "entities": entities}
        try:
            response = requests.post(url, params=params, json=body, timeout=self.timeout)
        except requests.Timeout:
            raise ReminderFailed("rasa_timeout") from None
        except requests.RequestException:
            raise ReminderFailed("rasa_unreachable") from None
        if response.status_code != 200:
            raise ReminderFailed(f"rasa_http_{response.status_code}")
