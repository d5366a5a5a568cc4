"""The payment webhook: payments reported by the lender's payment page or provider,
served by the running assistant at POST /payments/webhook (issue 14).

credentials.yml:

    channels.payments.PaymentWebhookInput:   # POST /payments/webhook

It is a Rasa input channel only to be served by Rasa's own web server (every
replica, behind the same proxy as the messaging webhooks); it never starts a
conversation. Each delivery must be signed (bot.domain.payment_webhook:
HMAC-SHA256 over the timestamp and the body with PAYMENT_WEBHOOK_SECRET, within
PAYMENT_WEBHOOK_TOLERANCE_SECONDS). The body is one JSON object with the CSV
import's fields as strings:

    {"payment_id": "pi_3Q…", "loan_ref": "LN-10001", "paid_at": "2026-12-05T09:30:00Z",
     "amount": "125.50", "currency": "GBP", "method": "card"}

Answers: 200 `recorded` or `already_recorded` (the same payment again: nothing
changes, however often it is delivered); 400 a body that is not such a payment
(the fields at fault are named, their values never echoed); 401 a missing,
stale or wrong signature; 403 no secret configured (every delivery refused);
409 a payment_id already used for a different payment; 422 a payment refused
(`unknown_loan`, or `currency_mismatch`: another currency than the loan's),
kept and reported; 503 with Retry-After when the loan store cannot be reached
(the sender retries). Never another 5xx.

A recorded payment is thanked on the borrower's preferred channel, at most once
a day and within the contact rules (bot/services/payment_thanks.py), after the
answer is sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.bootstrap import services
from bot.domain.clock import utcnow
from bot.domain.payment_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_problem
from bot.domain.payments import PAYMENT_FIELDS, RECORDED, read_payment
from bot.services.payment_thanks import thanks_decision
from bot.services.reminders import CONNECTORS, ReminderRules

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
THANKS_RESPONSE = "utter_payment_thanks"
RETRY_AFTER_SECONDS = 30
STATUS = {"recorded": 200, "already_recorded": 200, "conflict": 409, "refused": 422}


class PaymentWebhookInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "payments"

    def url_prefix(self) -> str:
        # Rasa mounts channels under /webhooks/<name>; an absolute prefix mounts this one at /payments.
        return "/payments"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def __init__(self) -> None:
        self._warned = False
        self._tasks: set[asyncio.Task] = set()
        # One thank-you decision at a time per loan: payments delivered in quick succession
        # each start one, and each must see the thank-you the one before it sent.
        self._thanking: dict[str, tuple[asyncio.Lock, int]] = {}  # loan -> its lock, tasks using it
        self.clock = utcnow  # tests set the time the contact rules see

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("payment_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                return await self._receive(request)
            except Exception as exc:  # the loan store down, most likely: the sender retries
                logger.error("payments: a delivery could not be recorded (%s; 503)", type(exc).__name__)
                return response.json(
                    {"error": "the payment could not be recorded now; please retry"},
                    status=503,
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )

        return webhook

    async def _receive(self, request: Request) -> HTTPResponse:
        settings = services().settings
        if not settings.payment_webhook_secret:
            if not self._warned:
                self._warned = True
                logger.warning("payments: PAYMENT_WEBHOOK_SECRET is not set; every delivery is refused (403)")
            return response.json({"error": "the payment webhook is not configured"}, status=403)
        body = request.body or b""
        problem = signature_problem(
            settings.payment_webhook_secret,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            body,
            time.time(),
            settings.payment_webhook_tolerance_seconds,
        )
        if problem is not None:
            logger.warning("payments: delivery refused (%s; 401)", problem)
            return response.json({"error": problem}, status=401)
        fields = _fields(body)
        if fields is None:
            return response.json({"error": "the body must be one JSON object of payment fields"}, status=400)
        payment, problems = read_payment(fields, self.clock())
        if payment is None:
            bad = sorted({p.split(" ", 1)[0] for p in problems if p.split(" ", 1)[0] in PAYMENT_FIELDS})
            return response.json({"error": "invalid payment", "fields": bad}, status=400)
        app = services()
        result = await asyncio.to_thread(
            app.store.record_payment,
            payment,
            source="webhook",
            rules_for=lambda product: app.policies.for_product(product).agreements,
        )
        logger.info("payments: %s %s", result.payment_id, result.outcome)
        if result.outcome == RECORDED and settings.payment_thanks:
            task = asyncio.create_task(self._thank(request.app, payment.loan_ref))
            self._tasks.add(task)  # kept until done (the loop holds tasks weakly)
            task.add_done_callback(self._tasks.discard)
        return response.json(result.to_json(), status=STATUS[result.outcome])

    async def _thank(self, app: Sanic, loan_ref: str) -> None:
        """The thank-you on the borrower's channel, within the contact rules; every attempt recorded."""
        lock, waiting = self._thanking.get(loan_ref, (asyncio.Lock(), 0))
        self._thanking[loan_ref] = (lock, waiting + 1)
        try:
            async with lock:
                await self._thank_once(app, loan_ref)
        finally:
            lock, waiting = self._thanking[loan_ref]
            if waiting == 1:
                del self._thanking[loan_ref]  # nobody else waits: forget the loan
            else:
                self._thanking[loan_ref] = (lock, waiting - 1)

    async def _thank_once(self, app: Sanic, loan_ref: str) -> None:
        try:
            services_ = services()
            store, settings = services_.store, services_.settings
            now = self.clock()
            context = await asyncio.to_thread(store.thanks_context, loan_ref, now)
            if context is None:
                return
            reminder = thanks_decision(context, ReminderRules.from_settings(settings), now)
            if not reminder.send:
                await asyncio.to_thread(store.record_contact_attempt, reminder, "skipped", reminder.skip_reason, now)
                return
            connector = CONNECTORS[reminder.channel]
            output = _output_channel(app, connector)
            text = await _render(app, connector, reminder.language, settings.text("lender_name", reminder.language))
            if output is None or text is None:
                await asyncio.to_thread(store.record_contact_attempt, reminder, "failed", "no_output_channel", now)
                return
            await output.send_response(reminder.conversation_id or "", {"text": text})
            await asyncio.to_thread(store.record_contact_attempt, reminder, "sent", None, now)
        except Exception as exc:
            logger.error("payments: the thank-you could not be sent (%s)", type(exc).__name__)


def _fields(body: bytes) -> dict[str, Any] | None:
    if len(body) > MAX_BODY_BYTES:
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _output_channel(app: Sanic, connector: str) -> OutputChannel | None:
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == connector:
            return channel.get_output_channel()
    return None


async def _render(app: Sanic, connector: str, language: str, lender_name: str) -> str | None:
    """`utter_payment_thanks` from the running agent's domain, in the borrower's language."""
    agent = getattr(app.ctx, "agent", None)
    if agent is None or getattr(agent, "nlg", None) is None or agent.domain is None:
        return None
    tracker = DialogueStateTracker("_", agent.domain.slots)
    tracker.update(SlotSet("language", language))
    generated = await agent.nlg.generate(THANKS_RESPONSE, tracker, connector, lender_name=lender_name)
    return (generated or {}).get("text")
