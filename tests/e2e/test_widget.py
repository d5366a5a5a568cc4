"""The chat widget in a real browser (headless Debian Chromium through Playwright)
against the real Rasa and action servers, with the database checked after.

Needs /usr/bin/chromium (scripts/test.sh installs it) and web/node_modules (npm ci).
Screenshots go to each test's tmp_path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bot.domain.privacy import mask_personal_data
from channels.socketio import BORROWER_PREFIX, DOB_MASK
from tests.e2e.conftest import ROOT, _free_port, _wait_for

pytestmark = pytest.mark.e2e

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
REPLY_TIMEOUT_MS = 90_000  # the first messages wait for the model and the action server


@pytest.fixture(scope="module")
def web(servers, tmp_path_factory):
    """`python -m bot web` pointing at the test Rasa server, in development mode (demo login on),
    on the port whose origin the servers allow (WIDGET_ORIGINS' default: the page's own)."""
    port = int(servers.settings.get("WEB_PORT") or _free_port())
    log = tmp_path_factory.mktemp("web") / "web.log"
    env = {**os.environ, **servers.settings, "APP_ENV": "development", "DATABASE_URL": servers.database_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "web", "--port", str(port), "--socket-url", servers.rasa_url],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/health", proc, log, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    yield context
    context.close()


def open_chat(context, url):
    page = context.new_page()
    page.goto(url)
    expect(page.locator(".cw[data-state=online]")).to_be_visible(timeout=30_000)
    return page


def say(page, text):
    page.locator(".cw-input").fill(text)
    page.locator(".cw-input").press("Enter")
    expect(page.locator(".cw-user").last).to_have_text(text)


def bot_says(page, text):
    """Wait until a bot message contains `text` (a string or a regex)."""
    expect(page.locator(".cw-bot .cw-text").filter(has_text=text).last).to_be_visible(timeout=REPLY_TIMEOUT_MS)


def bot_texts(page) -> list[str]:
    return page.locator(".cw-bot .cw-text").all_inner_texts()


def transcript(page) -> list[str]:
    return [t.strip() for t in page.locator(".cw-log > .cw-msg:not(.cw-typing)").all_inner_texts()]


def test_a_visitor_verifies_and_agrees_a_plan_by_typing_and_clicking(servers, web, phone, tmp_path):
    loan = servers.new_loan()
    page = open_chat(phone, web)

    say(page, "hi")
    bot_says(page, "automated assistant")
    bot_says(page, "loan reference")
    say(page, loan)
    bot_says(page, "date of birth")
    say(page, "1 June 1980")
    bot_says(page, "you're verified")
    bot_says(page, "what made it hard")
    say(page, "my car broke down and the repair took everything")

    plan_button = page.get_by_role("button", name="6 monthly payments of £41.66")
    expect(plan_button).to_be_enabled(timeout=REPLY_TIMEOUT_MS)
    plan_button.click()
    # The borrower sees the button's title, not the intent payload it sent.
    expect(page.locator(".cw-user").last).to_have_text("6 monthly payments of £41.66")
    expect(plan_button).to_be_disabled()
    bot_says(page, "When would you like the first payment")

    say(page, "in 10 days")
    bot_says(page, "To confirm: 6 monthly payments")
    page.screenshot(path=str(tmp_path / "widget-read-back.png"))
    page.get_by_role("button", name="Yes, that's right").click()
    bot_says(page, re.compile(r"reference is AG-[A-Z0-9]{8}"))
    page.screenshot(path=str(tmp_path / "widget-agreed.png"))

    reference = re.search(r"AG-[A-Z0-9]{8}", " ".join(bot_texts(page))).group(0)
    [agreement] = [a for a in servers.store.agreements() if a.loan_ref == loan]
    assert agreement.agreement_ref == reference
    assert agreement.kind == "instalment_plan" and len(agreement.instalments) == 6
    assert agreement.channel == "socketio"

    # A reload resumes the same conversation (signed ticket) and shows it again,
    # except the date of birth, which is never shown again.
    # The tracker store masks date-like text in the bot's words too (bot.domain.privacy),
    # so the replay shows the question's example date masked.
    before = [DOB_MASK if line == "1 June 1980" else mask_personal_data(line) for line in transcript(page)]
    page.reload()
    expect(page.locator(".cw-bot .cw-text").filter(has_text=reference)).to_be_visible(timeout=30_000)
    assert transcript(page)[: len(before)] == before


def test_a_first_message_sent_before_the_replay_arrives_stays_on_screen_and_is_answered(servers, web, phone):
    """The server's replay of the conversation (`history`) redraws the log. Held back here
    until the borrower has typed, as a slow server would, it must not wipe their first words:
    the widget sends them after the replay, so they are shown and answered once."""
    held: list[str] = []
    routes = []

    def relay(ws):
        server = ws.connect_to_server()
        routes.append(ws)

        def from_server(frame):
            if isinstance(frame, str) and frame.startswith('42["history"') and not held:
                held.append(frame)
            else:
                ws.send(frame)

        server.on_message(from_server)
        ws.on_message(server.send)

    page = phone.new_page()
    page.route_web_socket(re.compile(r"/socket\.io/"), relay)
    page.goto(web)
    expect(page.locator(".cw[data-state=online]")).to_be_visible(timeout=30_000)
    page.locator(".cw-input").fill("hi")
    page.locator(".cw-input").press("Enter")
    page.wait_for_timeout(2_000)  # time for a message sent at once to be answered
    expect(page.locator(".cw-user")).to_have_text(["hi"])
    assert held, "the replay was not held back"
    routes[0].send(held[0])

    bot_says(page, "loan reference")
    expect(page.locator(".cw-user")).to_have_text(["hi"])
    assert sum("automated assistant" in text for text in bot_texts(page)) == 1


def test_a_logged_in_borrower_gives_only_the_date_of_birth_and_keeps_the_conversation(
    servers, web, browser, phone, tmp_path
):
    loan = servers.new_loan()
    page = open_chat(phone, web)
    page.locator("#demo-loan").fill(loan)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#demo-who")).to_have_text(f"Logged in: {loan}")
    expect(page.locator(".cw[data-state=online]")).to_be_visible(timeout=30_000)

    say(page, "hi")
    bot_says(page, "date of birth")
    assert not any("loan reference" in text for text in bot_texts(page))
    say(page, "1 June 1980")
    bot_says(page, "you're verified")
    bot_says(page, "what made it hard")
    say(page, "I lost my job last month")
    expect(page.locator(".cw-buttons button").first).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    page.screenshot(path=str(tmp_path / "widget-logged-in.png"))

    # After a reload the whole conversation is there again, replayed by the server
    # (the date of birth masked).
    # The tracker store masks date-like text in the bot's words too (bot.domain.privacy),
    # so the replay shows the question's example date masked.
    before = [DOB_MASK if line == "1 June 1980" else mask_personal_data(line) for line in transcript(page)]
    page.reload()
    expect(page.locator(".cw-user").filter(has_text="I lost my job last month")).to_be_visible(timeout=30_000)
    assert transcript(page)[: len(before)] == before
    expect(page.locator(".cw-buttons button").first).to_be_enabled()

    # Another client, in another browser profile, names the borrower's conversation
    # every way the stock channel allows, and sends a message into it.
    victim = page.evaluate("() => localStorage.getItem('chat-widget-ticket')").split(".")[0]
    assert victim.startswith(BORROWER_PREFIX)
    attacker_context = browser.new_context()
    attacker = open_chat(attacker_context, web)
    seen = attacker.evaluate(
        """([url, victim]) => new Promise((resolve) => {
            const seen = {confirm: null, history: null, bot: []};
            const socket = io(url, {transports: ["websocket"], auth: {ticket: victim, session_id: victim}});
            socket.on("connect", () => socket.emit("session_request", {session_id: victim}));
            socket.on("session_confirm", (data) => { seen.confirm = data; });
            socket.on("history", (data) => {
                seen.history = data;
                socket.emit("user_uttered", {message: "forged message into the borrower's chat",
                                             session_id: victim, metadata: {channel_identity: "x"}});
            });
            socket.on("bot_uttered", (m) => seen.bot.push(m.text));
            setTimeout(() => { socket.disconnect(); resolve(seen); }, 15000);
        })""",
        [servers.rasa_url, victim],
    )
    attacker_context.close()
    assert seen["confirm"]["session_id"] != victim and seen["confirm"]["identified"] is False
    assert seen["history"] == {"messages": []}
    assert seen["bot"], "the attacker is answered, in a conversation of its own"
    assert not any(loan in (text or "") or "£" in (text or "") for text in seen["bot"])

    request = urllib.request.Request(
        f"{servers.rasa_url}/conversations/{victim}/tracker?token={servers.settings['RASA_TOKEN']}"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        tracker = json.loads(response.read())
    said = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert "I lost my job last month" in said
    assert "forged message into the borrower's chat" not in said

    page.reload()
    expect(page.locator(".cw-user").filter(has_text="I lost my job last month")).to_be_visible(timeout=30_000)
    assert transcript(page)[: len(before)] == before
    assert not any("forged message" in line for line in transcript(page))


def test_an_expired_token_falls_back_to_an_anonymous_conversation(servers, web, phone):
    from datetime import timedelta

    from bot.domain.clock import utcnow
    from bot.domain.identity import widget_token

    loan = servers.new_loan()
    expired = widget_token(loan, servers.settings["WIDGET_JWT_SECRET"], now=utcnow() - timedelta(hours=2))
    page = phone.new_page()
    page.goto(web)
    page.evaluate(
        "([t, l]) => { sessionStorage.setItem('demo-widget-token', t); sessionStorage.setItem('demo-widget-loan', l); }",
        [expired, loan],
    )
    page.reload()
    expect(page.locator(".cw[data-state=online]")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Log in")).to_be_visible()  # the page was told to log in again
    say(page, "hi")
    bot_says(page, "loan reference")


def test_a_second_device_with_a_valid_token_must_give_the_date_of_birth_again(servers, web, browser, phone):
    """Issue 12: every holder of a valid token for a loan landed in the same, already
    verified conversation: a second device saw the history and "how much do I owe?"
    was answered without a date of birth."""
    loan = servers.new_loan()
    page = open_chat(phone, web)
    page.locator("#demo-loan").fill(loan)
    page.get_by_role("button", name="Log in").click()
    # Until the log-in has remounted the widget, the anonymous one is still online: a
    # message typed then goes to the anonymous conversation the remount leaves behind.
    expect(page.locator("#demo-who")).to_have_text(f"Logged in: {loan}")
    expect(page.locator(".cw[data-state=online]")).to_be_visible(timeout=30_000)
    say(page, "hi")
    bot_says(page, "date of birth")
    say(page, "1 June 1980")
    bot_says(page, "you're verified")
    say(page, "how much do I owe?")
    bot_says(page, "£250.00")

    other_context = browser.new_context(**PHONE)  # another phone, logged in to the same loan
    try:
        other = open_chat(other_context, web)
        other.locator("#demo-loan").fill(loan)
        other.get_by_role("button", name="Log in").click()
        expect(other.locator("#demo-who")).to_have_text(f"Logged in: {loan}")
        expect(other.locator(".cw[data-state=online]")).to_be_visible(timeout=30_000)
        assert transcript(other) == []  # none of the first phone's conversation
        say(other, "how much do I owe?")
        bot_says(other, "date of birth")
        assert not any("£" in text or "verified" in text for text in bot_texts(other))
        say(other, "1 June 1980")
        bot_says(other, "you're verified")
        say(other, "how much do I owe?")
        bot_says(other, "£250.00")
    finally:
        other_context.close()

    # The first phone keeps its own conversation after a reload, verified.
    page.reload()
    expect(page.locator(".cw-bot .cw-text").filter(has_text="£250.00").first).to_be_visible(timeout=30_000)
    assert [line for line in transcript(page) if line == "how much do I owe?"] == ["how much do I owe?"]
