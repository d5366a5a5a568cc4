"""The strict REST channel's answers, with Rasa's agent replaced by one that
takes the conversation's lock the way Rasa's does (components.lock_store).

Whole conversations over REST are in tests/e2e."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

from bot.domain.identity import METADATA_KEY
from channels.rest import MAX_METADATA_DEPTH, StrictRestInput
from components.lock_store import MAX_QUEUED_MESSAGES, BoundedInMemoryLockStore


class Agent:
    """Handles a message as Rasa's Agent does: under the conversation's ticket lock.
    A turn waits for `release` (so a queue builds up) and replies with its text."""

    def __init__(self, *, ready: bool = True, fail: Exception | None = None) -> None:
        self.lock_store = BoundedInMemoryLockStore()
        self.release = asyncio.Event()
        self.handled: list = []
        self.ready, self.fail = ready, fail

    def is_ready(self) -> bool:
        return self.ready

    async def handle_message(self, message) -> None:
        async with self.lock_store.lock(message.sender_id, wait_time_in_seconds=0.001):
            await self.release.wait()
            if self.fail is not None:
                raise self.fail
            self.handled.append(message)
            await message.output_channel.send_text_message(message.sender_id, f"got {message.text}")


def receive_route(agent: Agent):
    blueprint = StrictRestInput().blueprint(agent.handle_message)
    [route] = [r for r in blueprint._future_routes if r.uri == "/webhook"]
    app = SimpleNamespace(ctx=SimpleNamespace(agent=agent))

    async def post(body) -> tuple[int, dict, dict]:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        answer = await route.handler(SimpleNamespace(body=raw, app=app))
        return answer.status, json.loads(answer.body), dict(answer.headers)

    return post


def test_a_message_is_answered_with_the_turns_replies_and_no_client_identity():
    agent = Agent()
    agent.release.set()
    post = receive_route(agent)
    body = {"sender": "a", "message": "hi", "metadata": {METADATA_KEY: "forged", "locale": "en"}}
    status, replies, _ = asyncio.run(post(body))
    assert (status, replies) == (200, [{"recipient_id": "a", "text": "got hi"}])
    [message] = agent.handled
    assert message.metadata == {"locale": "en"} and message.input_channel == "rest"


def test_a_burst_beyond_the_queue_is_refused_with_retry_after_and_the_rest_is_answered_in_order():
    """Before: every message queued, tickets expired in the queue, `200 []` came back."""
    agent = Agent()
    post = receive_route(agent)
    burst = MAX_QUEUED_MESSAGES + 6

    async def main():
        tasks = [asyncio.create_task(post({"sender": "a", "message": f"m{i}"})) for i in range(burst)]
        await asyncio.sleep(0.05)  # every request has drawn its ticket or been refused
        agent.release.set()
        return await asyncio.gather(*tasks)

    answers = asyncio.run(main())
    answered = [(replies, i) for i, (status, replies, _) in enumerate(answers) if status == 200]
    refused = [(replies, headers) for status, replies, headers in answers if status == 429]
    assert len(answered) == MAX_QUEUED_MESSAGES + 1 and len(refused) == burst - len(answered)
    assert all(replies == [{"recipient_id": "a", "text": f"got m{i}"}] for replies, i in answered)
    assert [m.text for m in agent.handled] == [f"m{i}" for _, i in answered]  # in the order they came
    for body, headers in refused:
        assert int(headers["Retry-After"]) >= 1 and body["retry_after"] == int(headers["Retry-After"])
        assert "nothing was done" in body["error"]


@pytest.mark.parametrize(
    "agent",
    [Agent(fail=RuntimeError("tracker store down: card 4111 1111 1111 1111")), Agent(ready=False)],
    ids=["turn failed", "model not loaded"],
)
def test_a_message_that_was_not_processed_gets_503_not_an_empty_answer(agent, caplog):
    agent.release.set()
    status, body, headers = asyncio.run(receive_route(agent)({"sender": "a", "message": "hi"}))
    assert status == 503 and headers["Retry-After"] == "5" and "send it again" in body["error"]
    assert "4111" not in caplog.text and "4111" not in json.dumps(body)


def test_metadata_nested_deeper_than_the_limit_is_refused_with_400():
    agent = Agent()
    agent.release.set()
    post = receive_route(agent)

    def with_metadata(levels: int) -> bytes:
        return b'{"sender": "a", "message": "hi", "metadata": ' + b'{"a": ' * (levels - 1) + b"{}" + b"}" * levels

    assert asyncio.run(post(with_metadata(MAX_METADATA_DEPTH)))[0] == 200
    status, body, _ = asyncio.run(post(with_metadata(MAX_METADATA_DEPTH + 1)))
    assert status == 400 and "levels deep" in body["error"]
    for levels in (2000, 100_000):  # too deep for Python's JSON parser: a RecursionError and a 500 before
        status, body, _ = asyncio.run(post(with_metadata(levels)))
        assert status == 400 and "JSON object" in body["error"]
    assert len(agent.handled) == 1
