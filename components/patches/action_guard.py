"""When the action server is down or too slow, the borrower hears so, politely.

Rasa 3.6 logs a failed custom-action call and carries on with no reply at all
(and waits up to five minutes for a slow server). This wraps Rasa's
`RemoteAction.run` so that a call which cannot connect, fails, or takes longer
than ACTION_CALL_TIMEOUT seconds ends the turn with
`utter_action_server_unavailable` ("nothing was recorded"), closes any open
form, and listens. The action server refuses work older than
ACTION_DEADLINE_SECONDS (actions/common.py), so an action that Rasa gave up on
cannot record anything afterwards.

It also gives an action run without an output channel (Rasa's trigger_intent
on a new conversation) a collecting one, so action_session_start works there.

Installed by `components.patches.install()` (who calls it: that package's docstring).
"""

from __future__ import annotations

import asyncio
import logging

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import ActiveLoop, BotUttered, FollowupAction, SlotSet

from bot.bootstrap import services
from components.patches import Patch

logger = logging.getLogger(__name__)

RESPONSE = "utter_action_server_unavailable"

_original_run = RemoteAction.run


async def _guarded_run(self, output_channel, nlg, tracker, domain):
    if output_channel is None:
        # Rasa 3.6's trigger_intent starts a new session without an output
        # channel, and a custom action_session_start that utters then fails.
        # Its words cannot be delivered (the reminder's own opening introduces
        # the lender); its other events (slots, session start) are kept.
        events = await _guarded_run(self, CollectingOutputChannel(), nlg, tracker, domain)
        return [e for e in events if not isinstance(e, BotUttered)]
    try:
        return await asyncio.wait_for(
            _original_run(self, output_channel, nlg, tracker, domain), services().settings.action_call_timeout
        )
    except ActionExecutionRejection:
        raise  # a form rejecting its activation: Rasa handles it
    except (Exception, asyncio.TimeoutError) as exc:
        logger.error(
            "custom action %s failed (%s); the borrower is told nothing was recorded", self.name(), type(exc).__name__
        )
        s = services().settings
        response = await nlg.generate(
            RESPONSE,
            tracker,
            output_channel.name(),
            lender_phone=s.lender_phone,
            lender_hours=s.text("lender_hours", tracker.get_slot("language")),
        )
        events = [create_bot_utterance(response)] if response else []
        if tracker.active_loop_name:
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return events + [FollowupAction("action_listen")]


PATCHES: tuple[Patch, ...] = (
    Patch(
        "rasa.core.actions.action.RemoteAction.run",
        _guarded_run,
        "a failed, refused or slow action call tells the borrower nothing was recorded, instead of silence",
    ),
)
