"""The team console in a real browser (headless Debian Chromium through Playwright) against
the real Rasa and action servers: an agent takes a widget conversation over and hands it back,
and the same over SMS against the platform fake (WhatsApp and Telegram over the console's HTTP forms).

`python -m bot console` runs as scripts/run.sh runs it, talking to the test Rasa server
through its HTTP API with RASA_TOKEN. The borrower uses the chat widget in another browser
context. Screenshots: docs/console-queue.png and docs/console-takeover.png when
CONSOLE_SCREENSHOTS=docs (as the README's were made), else each test's tmp_path.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.clock import utcnow
from bot.ops.console.security import hash_password
from tests.console_support import csrf_of, login
from tests.e2e.conftest import ROOT, _free_port, _wait_for
from tests.e2e.test_widget import PHONE, bot_says, bot_texts, browser, open_chat, say, web  # noqa: F401

pytestmark = pytest.mark.e2e

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

LAPTOP = {"viewport": {"width": 1280, "height": 800}}
PASSWORD = "agent password 15"


@pytest.fixture(scope="module")
def console(servers, tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("console") / "console.log"
    env = {
        **os.environ,
        **servers.settings,
        "APP_ENV": "development",
        "DATABASE_URL": servers.database_url,
        "RASA_URL": servers.rasa_url,
        "CONSOLE_SECRET": "e2e-console-secret",
    }
    if servers.store.operator("agent.amy") is None:
        servers.store.add_operator("agent.amy", "agent", hash_password(PASSWORD), by="e2e")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "console", "--port", str(port)],
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


def shots(tmp_path: Path) -> Path:
    return ROOT / "docs" if os.environ.get("CONSOLE_SCREENSHOTS") == "docs" else tmp_path


def test_an_agent_takes_a_widget_conversation_over_and_hands_it_back(servers, web, console, browser, tmp_path):  # noqa: F811
    loan = servers.new_loan()
    borrower_context = browser.new_context(**PHONE)
    agent_context = browser.new_context(**LAPTOP)
    try:
        # The borrower verifies in the widget and asks for a person.
        chat = open_chat(borrower_context, web)
        say(chat, "hi")
        bot_says(chat, "loan reference")
        say(chat, loan)
        bot_says(chat, "date of birth")
        say(chat, "1980-06-01")  # the test borrowers' date of birth (tests/e2e/conftest.py)
        bot_says(chat, "you're verified")
        say(chat, "can I speak to a real person please")
        bot_says(chat, "asked a member of our team")
        (handoff,) = [h for h in servers.store.handoffs(status="queued") if h["loan_ref"] == loan]
        ref = handoff["handoff_ref"]
        # Two more waiting: an urgent one (a crisis) and one another agent has claimed.
        urgent = servers.store.enqueue_handoff(
            conversation_id=f"e2e-crisis-{loan}",
            reason="crisis",
            transcript=[{"from": "borrower", "text": "I can't cope any more"}],
            loan_ref=servers.new_loan(),
            channel="twilio",
            priority="urgent",
            reply_by=utcnow() + timedelta(hours=1),
        )
        claimed = servers.store.enqueue_handoff(
            conversation_id=f"e2e-fraud-{loan}",
            reason="fraud",
            transcript=[{"from": "borrower", "text": "this isn't my loan"}],
            loan_ref=servers.new_loan(),
            channel="telegram",
            reply_by=utcnow() + timedelta(hours=3),
        )
        servers.store.claim_handoff(claimed, by="agent.ben")

        # The agent logs in and sees it in the queue, with its countdown.
        agent = agent_context.new_page()
        agent.goto(f"{console}/queue")
        expect(agent).to_have_url(re.compile(r"/login"))
        agent.fill("input[name=name]", "agent.amy")
        agent.fill("input[name=password]", PASSWORD)
        agent.click("button[type=submit]")
        item = agent.locator(".queue .item", has=agent.locator(f"text={ref}"))
        expect(item).to_be_visible()
        expect(item.locator(".countdown")).to_have_text(re.compile(r"reply within \d+ h"))
        refs = agent.locator(".queue .item .ref").all_inner_texts()
        assert refs.index(urgent) < refs.index(claimed) < refs.index(ref)  # urgent first, then by reply-by
        for waiting in (urgent, ref):  # each on one line on a laptop, its Claim button level with its reference
            row = agent.locator(".queue .item", has=agent.locator(f"text={waiting}"))
            ref_box = row.locator(".ref").bounding_box()
            claim_box = row.locator("button", has_text="Claim").bounding_box()
            assert ref_box and claim_box
            assert abs(ref_box["y"] + ref_box["height"] / 2 - claim_box["y"] - claim_box["height"] / 2) < 12, waiting
        agent.screenshot(path=str(shots(tmp_path) / "console-queue.png"))

        # Claims it and takes it over: the assistant is paused in Rasa.
        item.locator("button", has_text="Claim").click()
        agent.goto(f"{console}/handoffs/{ref}")
        expect(agent.locator(".line.borrower").last).to_have_text(re.compile("real person"))
        expect(agent.locator(".transcript")).not_to_contain_text("1980")  # the date of birth is withheld
        agent.locator("button", has_text="Take over").click()
        expect(agent.locator("#state")).to_contain_text("taken over by agent.amy")
        bot_says(chat, "You're now talking with a person")  # domain.yml/console.yml

        # What the agent types reaches the borrower's widget.
        agent.fill("#text", "Hello, I'm Amy from the collections team. How can I help?")
        agent.locator("#compose button").click()
        bot_says(chat, "I'm Amy from the collections team")
        before = len(bot_texts(chat))

        # The borrower answers: the agent sees it within a couple of seconds, the assistant stays quiet.
        say(chat, "I lost my job last month and need more time")
        started = time.monotonic()
        expect(agent.locator(".line.borrower").last).to_have_text(re.compile("lost my job"), timeout=5_000)
        assert time.monotonic() - started < 4
        agent.wait_for_timeout(2_500)
        assert len(bot_texts(chat)) == before  # nothing from the assistant while paused
        agent.fill("#text", "I'm sorry to hear that. I'll hand you back to the assistant to set up a plan.")
        agent.locator("#compose button").click()
        bot_says(chat, "sorry to hear that")
        agent.screenshot(path=str(shots(tmp_path) / "console-takeover.png"))
        chat.screenshot(path=str(shots(tmp_path) / "console-takeover-widget.png"))

        # Hands back: the assistant answers the next message again.
        agent.fill("input[name=note]", "job loss; offered time, back to the assistant for a plan")
        agent.locator("button", has_text="Hand back to the assistant").click()
        expect(agent).to_have_url(re.compile(r"/queue$"))
        bot_says(chat, "back with our automated assistant")
        before = len(bot_texts(chat))
        say(chat, "how much do I owe?")
        expect(chat.locator(".cw-bot .cw-text")).to_have_count(before + 1, timeout=60_000)
        assert "Amy" not in bot_texts(chat)[-1]

        # On a tablet, every page fits the screen's width.
        agent.set_viewport_size({"width": 768, "height": 1024})
        for path in ("/queue", f"/handoffs/{ref}", f"/loans/{loan}", "/cases", "/vulnerability"):
            agent.goto(console + path)
            assert agent.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path

        # Rasa's tracker and the loan's audit trail have it all, with the agent's name.
        assert servers.store.handoff(ref)["status"] == "done"
        trail = [
            (e["event_type"], e["details"].get("by"))
            for e in servers.store.loan_report(loan)["audit_events"]
            if e["event_type"].startswith(("handoff_", "conversation_", "agent_"))
        ]
        assert trail == [
            ("handoff_requested", None),
            ("handoff_claimed", "agent.amy"),
            ("conversation_taken_over", "agent.amy"),
            ("agent_message_sent", "agent.amy"),
            ("agent_message_sent", "agent.amy"),
            ("conversation_handed_back", "agent.amy"),
            ("handoff_completed", "agent.amy"),
        ]
    finally:
        borrower_context.close()
        agent_context.close()


def test_an_agent_works_a_handoff_in_chinese(servers, web, console, browser, tmp_path):  # noqa: F811
    """A Chinese-speaking borrower asks for a person in the widget; an agent switches the
    console to Chinese from its header, and claims, takes over, writes and hands back
    on Chinese screens; the borrower reads it all in Chinese (bot/ops/console/i18n.py)."""
    loan = servers.new_loan(language="zh", currency="CNY", timezone="Asia/Shanghai", overdue="600.00")
    if servers.store.operator("li.na") is None:
        servers.store.add_operator("li.na", "agent", hash_password(PASSWORD), by="e2e")
    servers.store.set_operator_language("li.na", None)  # the lender's default (English here) until she chooses
    borrower_context = browser.new_context(**PHONE)
    agent_context = browser.new_context(**LAPTOP)
    try:
        chat = open_chat(borrower_context, web)
        say(chat, "您好")
        bot_says(chat, "贷款编号")
        say(chat, loan)
        bot_says(chat, "出生日期")
        say(chat, "1980年6月1日")
        bot_says(chat, "身份验证已通过")
        say(chat, "我要找人工客服")
        bot_says(chat, "之前回复您")
        (handoff,) = [h for h in servers.store.handoffs(status="queued") if h["loan_ref"] == loan]
        ref = handoff["handoff_ref"]

        agent = agent_context.new_page()
        agent.goto(f"{console}/login")
        agent.locator("a[lang=zh]").click()  # the log-in page in Chinese
        expect(agent.locator("h1")).to_have_text("登录")
        agent.fill("input[name=name]", "li.na")
        agent.fill("input[name=password]", PASSWORD)
        agent.locator("button[type=submit]", has_text="登录").click()
        expect(agent.locator("h1")).to_contain_text("Waiting for a person")  # her own setting: none yet
        agent.locator("header button[lang=zh]").click()  # the header's switch, kept with her
        expect(agent.locator("h1")).to_contain_text("等待人工处理")
        assert servers.store.operator("li.na").language == "zh"
        assert agent.locator("html").get_attribute("lang") == "zh-Hans"

        item = agent.locator(".queue .item", has=agent.locator(f"text={ref}"))
        expect(item.locator(".badge", has_text="要求转人工")).to_be_visible()
        expect(item.locator(".countdown")).to_have_text(re.compile(r"须在 \d+ 小时( \d+ 分钟)? 内回复"))
        item.locator("button", has_text="认领").click()
        expect(agent.locator("#state")).to_contain_text("已由 li.na 认领")
        expect(agent.locator(".facts")).to_contain_text("中文")
        expect(agent.locator(".line.borrower .text").last).to_have_text("我要找人工客服")  # as written
        expect(agent.locator(".transcript")).not_to_contain_text("1980")
        agent.locator("button", has_text="接管会话").click()
        expect(agent.locator("#state")).to_contain_text("已由 li.na 接管——智能助手已暂停")
        expect(agent.locator(".line.system").last).to_have_text("智能助手已暂停")
        bot_says(chat, "现在与您交谈的是真人")  # domain.yml/console.yml, in the borrower's language

        assert agent.locator("#text").get_attribute("placeholder") == "请用中文给借款人写消息"
        agent.fill("#text", "您好，我是催收团队的李娜。请问有什么可以帮您？")
        agent.locator("#compose button", has_text="发送").click()
        bot_says(chat, "我是催收团队的李娜")
        before = len(bot_texts(chat))
        say(chat, "我下个月发工资后可以先还一部分")
        expect(agent.locator(".line.borrower .text").last).to_have_text("我下个月发工资后可以先还一部分", timeout=5_000)
        expect(agent.locator(".line.borrower .who").last).to_have_text("借款人")  # drawn by console.js
        agent.wait_for_timeout(2_000)
        assert len(bot_texts(chat)) == before  # the assistant stays quiet
        agent.screenshot(path=str(shots(tmp_path) / "console-takeover-zh.png"))

        agent.fill("input[name=note]", "借款人下月发薪后部分还款，交还助手商定计划")
        agent.locator("button", has_text="交还智能助手").click()
        expect(agent).to_have_url(re.compile(r"/queue$"))
        expect(agent.locator("h1")).to_contain_text("等待人工处理")
        bot_says(chat, "现在由我们的自动助手继续为您服务")
        assert servers.store.handoff(ref)["status"] == "done"

        # The loan page in Chinese: money and dates the Chinese way, the audit trail's codes as they are.
        agent.goto(f"{console}/loans/{loan}")
        expect(agent.locator(".facts").nth(1)).to_contain_text("¥600.00")
        expect(agent.locator(".audit")).to_contain_text("conversation_handed_back")
        trail = [
            (e["event_type"], e["details"].get("by"))
            for e in servers.store.loan_report(loan)["audit_events"]
            if e["event_type"].startswith(("handoff_", "conversation_", "agent_"))
        ]
        assert trail[-3:] == [
            ("agent_message_sent", "li.na"),
            ("conversation_handed_back", "li.na"),
            ("handoff_completed", "li.na"),
        ]
    finally:
        borrower_context.close()
        agent_context.close()


def _log_in(console_url: str, name: str, password: str):
    session, answer = login(console_url, name, password)
    assert answer.status_code == 303 and "Waiting for a person" in session.get(f"{console_url}/queue").text
    return session


def _act(session, console_url: str, path: str, **data):
    return session.post(
        f"{console_url}{path}", data={"csrf": csrf_of(session, console_url), **data}, allow_redirects=False
    )


def _texts(sms, count: int, seconds: float = 30) -> list[str]:
    """The next `count` texts the borrower's phone receives (waiting up to `seconds`)."""
    received: list[str] = []
    deadline = time.monotonic() + seconds
    while len(received) < count and time.monotonic() < deadline:
        received += sms.new_texts()
        time.sleep(0.2)
    return received


def test_an_agent_takes_an_sms_conversation_over_and_hands_it_back(servers, console, browser):  # noqa: F811
    """The same takeover as the widget's, in Chromium, with the borrower texting over SMS
    (Twilio's API is the local platform fake)."""
    from tests.e2e.test_messaging import TextChannel, new_phone

    phone = new_phone()
    loan = servers.new_loan(phone=phone)
    sms = TextChannel(servers, "twilio", phone)
    assert "date of birth" in sms.say("hi")
    assert "you're verified" in sms.say("1980-06-01")
    assert "asked a member of our team" in sms.say("can I speak to a real person please")
    (handoff,) = [h for h in servers.store.handoffs(status="queued") if h["loan_ref"] == loan]
    ref = handoff["handoff_ref"]

    context = browser.new_context(**LAPTOP)
    try:
        agent = context.new_page()
        agent.goto(f"{console}/queue")
        expect(agent).to_have_url(re.compile(r"/login"))
        agent.fill("input[name=name]", "agent.amy")
        agent.fill("input[name=password]", PASSWORD)
        agent.click("button[type=submit]")
        item = agent.locator(".queue .item", has=agent.locator(f"text={ref}"))
        expect(item).to_contain_text("twilio")
        item.locator("button", has_text="Claim").click()
        agent.goto(f"{console}/handoffs/{ref}")
        expect(agent.locator(".line.borrower").last).to_have_text(re.compile("real person"))
        agent.locator("button", has_text="Take over").click()
        expect(agent.locator("#state")).to_contain_text("taken over by agent.amy")

        # What the agent types is texted to the borrower's phone through Twilio.
        agent.fill("#text", "Hi, this is Amy from the team.")
        agent.locator("#compose button").click()
        expect(agent.locator(".line.agent").last).to_contain_text("Hi, this is Amy from the team.")
        assert _texts(sms, 2) == [
            "A member of our team has joined this chat. You're now talking with a person.",
            "Hi, this is Amy from the team.",
        ]

        # The borrower's answer shows on the agent's page within a couple of seconds; the assistant stays quiet.
        assert sms.say("thanks Amy, I can pay on Friday") == ""
        started = time.monotonic()
        expect(agent.locator(".line.borrower").last).to_have_text(re.compile("pay on Friday"), timeout=5_000)
        assert time.monotonic() - started < 4
        agent.wait_for_timeout(2_000)
        assert sms.new_texts() == []

        # Hand back: the assistant answers the next text again.
        agent.fill("input[name=note]", "will pay Friday")
        agent.locator("button", has_text="Hand back to the assistant").click()
        expect(agent).to_have_url(re.compile(r"/queue$"))
        assert _texts(sms, 1) == ["You're back with our automated assistant. Write whenever you're ready."]
        assert sms.say("how much do I owe?") != ""
        assert servers.store.handoff(ref)["status"] == "done"
        trail = [
            (e["event_type"], e["details"].get("by"))
            for e in servers.store.loan_report(loan)["audit_events"]
            if e["event_type"].startswith(("handoff_", "conversation_", "agent_"))
        ]
        assert trail[1:] == [
            ("handoff_claimed", "agent.amy"),
            ("conversation_taken_over", "agent.amy"),
            ("agent_message_sent", "agent.amy"),
            ("conversation_handed_back", "agent.amy"),
            ("handoff_completed", "agent.amy"),
        ]
    finally:
        context.close()


def test_an_agent_takes_a_whatsapp_conversation_over(servers, console):
    from tests.e2e.test_messaging import TextChannel, new_phone

    phone = new_phone()
    loan = servers.new_loan(phone=phone)
    chat = TextChannel(servers, "whatsapp", phone)
    assert "date of birth" in chat.say("hi")
    assert "you're verified" in chat.say("1980-06-01")
    assert "asked a member of our team" in chat.say("can I speak to a real person please")
    (handoff,) = [h for h in servers.store.handoffs(status="queued") if h["loan_ref"] == loan]
    ref = handoff["handoff_ref"]

    agent = _log_in(console, "agent.amy", PASSWORD)
    assert _act(agent, console, f"/handoffs/{ref}/claim").status_code == 303
    assert _act(agent, console, f"/handoffs/{ref}/take-over").status_code == 303
    assert _act(agent, console, f"/handoffs/{ref}/send", text="Hi, Amy here on WhatsApp.").status_code == 303
    assert chat.new_texts() == [  # sent from the lender's WhatsApp number through Twilio
        "A member of our team has joined this chat. You're now talking with a person.",
        "Hi, Amy here on WhatsApp.",
    ]
    assert chat.say("great, thanks") == ""  # the assistant stays quiet
    lines = agent.get(f"{console}/handoffs/{ref}/messages").json()["lines"]
    assert (lines[-1]["from"], lines[-1]["text"]) == ("borrower", "great, thanks")
    assert _act(agent, console, f"/handoffs/{ref}/hand-back").status_code == 303
    assert chat.new_texts() == ["You're back with our automated assistant. Write whenever you're ready."]
    assert chat.say("how much do I owe?") != ""  # the assistant answers again


def test_an_agent_takes_a_telegram_conversation_over(servers, console):
    from tests.e2e.test_messaging import TelegramChat, _numbers

    chat_id = str(7_700_000_000 + next(_numbers))
    loan = servers.new_loan(telegram_chat_id=chat_id)
    chat = TelegramChat(servers, chat_id)

    def texts() -> list[str]:
        return [r["text"] for r in chat.replies()]

    assert chat.say("hi") == 200 and "date of birth" in " ".join(texts())
    assert chat.say("1980-06-01") == 200 and "you're verified" in " ".join(texts())
    assert chat.say("can I speak to a real person please") == 200
    assert "asked a member of our team" in " ".join(texts())
    (handoff,) = [h for h in servers.store.handoffs(status="queued") if h["loan_ref"] == loan]
    ref = handoff["handoff_ref"]

    agent = _log_in(console, "agent.amy", PASSWORD)
    assert _act(agent, console, f"/handoffs/{ref}/claim").status_code == 303
    assert _act(agent, console, f"/handoffs/{ref}/take-over").status_code == 303
    assert _act(agent, console, f"/handoffs/{ref}/send", text="Hi, Amy here on Telegram.").status_code == 303
    assert texts() == [
        "A member of our team has joined this chat. You're now talking with a person.",
        "Hi, Amy here on Telegram.",
    ]
    assert chat.say("great, thanks") == 200 and texts() == []  # the assistant stays quiet
    assert _act(agent, console, f"/handoffs/{ref}/hand-back").status_code == 303
    assert texts() == ["You're back with our automated assistant. Write whenever you're ready."]
    assert chat.say("how much do I owe?") == 200 and texts()  # the assistant answers again
