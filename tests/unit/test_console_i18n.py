"""The team console in English and Simplified Chinese (bot/ops/console/i18n.py).

The catalogue has every message the console can show, in both languages; no template
has text outside it; every screen rendered in Chinese looked up nothing the Chinese
catalogue lacks and shows no English but the data (references, names, the borrower's
words, the audit trail's codes, marked translate="no"); the operator's choice is kept
with the operator and who may do what is the same in both languages.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
from babel.messages.pofile import read_po

from bot.adapters.database import Database
from bot.adapters.store import LoanStore
from bot.domain.clock import utcnow
from bot.domain.operators import InvalidOperator
from bot.ops.console import i18n
from bot.ops.console.app import build_app
from bot.ops.console.security import hash_password
from bot.ops.demo import seed_demo
from bot.settings import Settings
from tests.console_support import PASSWORD, FakeRasa, csrf_in, login, serving

TEMPLATES = Path(i18n.__file__).parent / "templates"
SAME_IN_BOTH = {"WhatsApp", "Telegram", "whatsapp", "telegram"}  # brand names
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
OPERATORS = (("li.na", "agent"), ("wang.fang", "supervisor"), ("admin.zhao", "admin"), ("amy", "agent"))
# Latin text a Chinese screen may show: references (LN-10001, HO-…), UTC, the CSRF
# acronym, the date format the dashboard asks for, brand names, the operators' names
# in a sentence (elsewhere they are marked translate="no").
ALLOWED_LATIN = re.compile(
    r"\b[A-Z]{2,3}-[A-Z0-9-]+\b|\bUTC\b|\bCSRF\b|YYYY-MM-DD|\bWhatsApp\b|\bTelegram\b|"
    + "|".join(re.escape(name) for name, _ in OPERATORS)
)
HUMAN_ATTRIBUTES = ("placeholder", "alt", "title", "aria-label")


def _zh_catalogue():
    with i18n.catalogue_path("zh").open("rb") as po:
        return read_po(po, locale="zh")


def test_every_message_is_in_both_languages():
    used = i18n.extract_messages()
    catalogue = _zh_catalogue()
    ids = {m.id for m in catalogue if m.id}
    assert len(used) > 200
    assert sorted(set(used) - ids) == [], "not in the Chinese catalogue (add them to console.po)"
    assert sorted(ids - set(used)) == [], "in the Chinese catalogue but used nowhere"
    for message in catalogue:
        if not message.id:
            continue
        assert message.string and not message.fuzzy, message.id
        assert set(PLACEHOLDER.findall(message.id)) == set(PLACEHOLDER.findall(message.string)), message.id
        if message.id not in SAME_IN_BOTH and re.search(r"[A-Za-z]{3,}", message.id):
            assert re.search(r"[\u4e00-\u9fff]", message.string), f"not Chinese: {message.id!r}"
    english, chinese = i18n.Speaker("en"), i18n.Speaker("zh")
    for message in used:  # English: the id is the text; Chinese: its own
        assert english.gettext(message) == message
        assert chinese.gettext(message) != message or message in SAME_IN_BOTH
    assert i18n.missing("en") == set() and i18n.missing("zh") == set()


def test_every_code_shown_has_a_label_in_both_languages():
    zh = i18n.Speaker("zh")
    en = i18n.Speaker("en")
    for kind, codes in i18n.CODES.items():
        for code in codes:
            assert en.label(kind, code) == code, (kind, code)  # English: the code, as before
            assert re.search(r"[\u4e00-\u9fff]", zh.label(kind, code)) or code in SAME_IN_BOTH, (kind, code)
    assert zh.label("language", "zh") == "中文" and en.label("language", "zh") == "Chinese"
    assert zh.label("reason", "a_code_we_do_not_know") == "a_code_we_do_not_know"  # shown as it is
    assert i18n.missing("zh") == set()


class _Text(HTMLParser):
    """The words a person reads on a page: text and human attributes, outside translate="no"."""

    VOID = {"input", "br", "meta", "link", "img", "hr", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: inside translate="no" or <script>/<style>
        self.words: list[str] = []

    def _skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skip = self._skipping() or attrs.get("translate") == "no" or tag in ("script", "style")
        if not skip:
            self.words.extend(v for k, v in attrs.items() if k in HUMAN_ATTRIBUTES and v)
        if tag not in self.VOID:
            self.stack.append(skip)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not self._skipping() and data.strip():
            self.words.append(data.strip())


def visible_words(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.words


def stray_latin(html: str) -> list[str]:
    return [w for w in visible_words(html) if re.search(r"[A-Za-z]{2,}", ALLOWED_LATIN.sub("", w))]


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_template_has_text_outside_the_catalogue(template):
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    # Jinja's expressions and statements out; what is left is what the template says itself.
    literal = re.sub(r"\{\{.*?\}\}", "0", source, flags=re.S)
    literal = re.sub(r"\{%.*?%\}|\{#.*?#\}", "", literal, flags=re.S)
    assert stray_latin(literal) == []
    # and no English string literal printed straight from an expression ({{ "text" }})
    for expression in re.findall(r"\{\{(.*?)\}\}", source, flags=re.S):
        printed = re.sub(r"_\(\s*(['\"]).*?\1|label\(\s*(['\"]).*?\2", "", expression)
        assert not re.search(r"(['\"])[A-Za-z][a-z]+ [a-z]+.*?\1", printed), (template, expression)


# --- every screen, rendered by the running console


@pytest.fixture
def console(database_url):
    store = LoanStore(Database(database_url))
    seed_demo(store, date.today())
    for name, role in OPERATORS:
        store.add_operator(name, role, hash_password(PASSWORD), by="test")
    rasa = FakeRasa(language="zh")
    rasa.events["widget-zh"] = [
        {"event": "user", "text": "我想找人工客服"},
        {"event": "bot", "text": "我已请团队成员回复您。"},
    ]
    ref = store.enqueue_handoff(
        conversation_id="widget-zh",
        reason="requested",
        transcript=[{"from": "borrower", "text": "我想找人工客服"}],
        loan_ref="LN-10001",
        channel="wechat",
        reply_by=utcnow() + timedelta(hours=2),
    )
    store.enqueue_handoff(
        conversation_id="sms-crisis",
        reason="crisis",
        transcript=[{"from": "borrower", "text": "I can't cope"}],
        loan_ref="LN-10002",
        channel="twilio",
        priority="urgent",
        reply_by=utcnow() + timedelta(hours=1),
    )
    store.flag_vulnerable("LN-10002", "bereavement")
    case_ref = store.open_case("LN-10003", "dispute", borrower_words="I never had this loan")
    settings = Settings(console_secret="console-test-secret", console_idle_minutes=30)
    app = build_app(settings, store, rasa, default_language="zh")  # a Chinese lender: CONSOLE_LANGUAGE=zh
    with serving(app) as url:
        yield {"url": url, "store": store, "rasa": rasa, "handoff": ref, "case": case_ref}


def log_in(url: str, name: str) -> requests.Session:
    s, answer = login(url, name)
    assert answer.status_code == 303, answer.text
    return s


def post(s: requests.Session, url: str, path: str, **data):
    return s.post(f"{url}{path}", data={"csrf": csrf_in(s.get(f"{url}/queue").text), **data}, allow_redirects=False)


def chinese_screen(answer: requests.Response) -> str:
    assert answer.headers["content-language"] == "zh-Hans", answer.url
    assert 'lang="zh-Hans"' in answer.text
    assert stray_latin(answer.text) == [], answer.url
    return answer.text


def test_every_screen_in_chinese(console):
    url, store = console["url"], console["store"]
    ho = console["handoff"]

    # Before log-in: the lender's language (CONSOLE_LANGUAGE=zh here).
    login = requests.get(f"{url}/login")
    assert "登录" in chinese_screen(login)
    wrong = requests.Session()
    page = wrong.get(f"{url}/login")
    refused = wrong.post(f"{url}/login", data={"csrf": csrf_in(page.text), "name": "li.na", "password": "wrong one!"})
    assert refused.status_code == 401 and "用户名与密码不匹配" in chinese_screen(refused)
    csrf_missing = requests.post(f"{url}/login", data={"name": "li.na", "password": PASSWORD})
    assert csrf_missing.status_code == 403 and "CSRF" in csrf_missing.text and "表单已过期" in csrf_missing.text

    admin = log_in(url, "admin.zhao")
    screens = {
        "/queue": "等待人工处理",
        f"/handoffs/{ho}": "要求转人工",
        "/cases?all=1": "全部案件",
        "/vulnerability": "待进行弱势情况复核",
        "/loans": "查找贷款",
        "/loans/LN-10001": "审计记录",
        "/dashboard?from=2026-11-01&to=2026-11-30": "数据看板",
        "/operators": "添加操作员",
        "/loans/LN-99999": "找不到该编号",  # an error page
    }
    for path, words in screens.items():
        answer = admin.get(url + path)
        assert words in chinese_screen(answer), path
    assert "I never had this loan" in admin.get(f"{url}/cases").text  # the borrower's words as written
    loan = admin.get(f"{url}/loans/LN-10001").text
    assert "£" in loan  # money through bot.domain.formatting (GBP, zh)
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", loan)  # dates too
    assert "handoff_requested" in loan  # the audit trail keeps its machine codes

    # The takeover in Chinese: claim, take over, write, hand back; the words reach Rasa as written.
    agent = log_in(url, "li.na")
    assert post(agent, url, f"/handoffs/{ho}/claim").status_code == 303
    assert post(agent, url, f"/handoffs/{ho}/take-over").status_code == 303
    page = chinese_screen(agent.get(f"{url}/handoffs/{ho}"))
    assert "已由" in page and "接管" in page and "智能助手已暂停" in page and "请用中文给借款人写消息" in page
    assert post(agent, url, f"/handoffs/{ho}/send", text="您好，我是催收团队的李娜。").status_code == 303
    assert console["rasa"].events["widget-zh"][-1]["text"] == "您好，我是催收团队的李娜。"
    lines = agent.get(f"{url}/handoffs/{ho}/messages").json()["lines"]
    assert lines[-1] == {"from": "agent", "text": "您好，我是催收团队的李娜。", "by": "li.na"}
    # refusals and form errors in Chinese
    too_long = post(agent, url, f"/handoffs/{ho}/send", text="长" * 1001)
    assert too_long.status_code == 400 and "1 至 1000 个字符" in chinese_screen(too_long)
    not_allowed = agent.get(f"{url}/dashboard")
    assert not_allowed.status_code == 403 and "您的角色（坐席）无权执行此操作" in chinese_screen(not_allowed)
    other = log_in(url, "amy")
    taken = post(other, url, f"/handoffs/{ho}/send", text="hi")
    assert taken.status_code == 403 and "此会话正由" in chinese_screen(taken)
    assert post(agent, url, f"/handoffs/{ho}/hand-back", note="借款人周五还款").status_code == 303
    bad = post(admin, url, "/operators", name="x", role="agent", password="a long password")
    assert bad.status_code == 400 and "用户名：2 至 32 个字符" in chinese_screen(bad)

    assert i18n.missing("zh") == set()  # nothing on any screen fell back to English
    trail = [e["event_type"] for e in store.loan_report("LN-10001")["audit_events"]]
    assert "conversation_taken_over" in trail and "agent_message_sent" in trail


def test_the_operator_chooses_their_language_and_keeps_it(console):
    url, store = console["url"], console["store"]
    amy = log_in(url, "amy")
    assert "等待人工处理" in amy.get(f"{url}/queue").text  # the lender's default
    answer = post(amy, url, "/language", language="en", next="/cases")
    assert answer.status_code == 303 and answer.headers["location"] == "/cases"
    assert store.operator("amy").language == "en"
    english = amy.get(f"{url}/queue")
    assert english.headers["content-language"] == "en" and "Waiting for a person" in english.text
    assert "等待人工处理" in log_in(url, "li.na").get(f"{url}/queue").text  # others keep theirs
    again = log_in(url, "amy")  # a new session: still English
    assert "Waiting for a person" in again.get(f"{url}/queue").text
    # the switch is an operator's own: an open redirect or an unknown language is refused
    assert post(amy, url, "/language", language="fr").status_code == 400
    assert post(amy, url, "/language", language="zh", next="//evil.example").headers["location"] == "/queue"
    assert amy.post(f"{url}/language", data={"language": "zh"}, allow_redirects=False).status_code == 403  # CSRF
    assert requests.post(f"{url}/language", data={"language": "zh"}, allow_redirects=False).status_code == 303
    assert store.operator("amy").language == "zh"
    with pytest.raises(InvalidOperator, match="language must be one of"):
        store.set_operator_language("amy", "fr")


def test_who_may_do_what_is_the_same_in_chinese(console):
    url = console["url"]
    agent = log_in(url, "li.na")
    for path in ("/dashboard", "/operators"):
        assert agent.get(url + path).status_code == 403, path
    assert post(agent, url, "/loans/LN-10002/clear-vulnerability", note="商定暂停催收").status_code == 403
    assert post(agent, url, f"/cases/{console['case']}/close", outcome="upheld", note="核实").status_code == 403
    assert post(agent, url, "/operators", name="eve", role="admin", password=PASSWORD).status_code == 403
    anonymous = requests.get(f"{url}/queue", allow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    supervisor = log_in(url, "wang.fang")
    assert supervisor.get(f"{url}/dashboard").status_code == 200
    assert supervisor.get(f"{url}/operators").status_code == 403


def test_the_lender_setting(monkeypatch):
    from bot.settings import Settings, load_settings

    monkeypatch.delenv("CONSOLE_LANGUAGE", raising=False)
    assert load_settings().console_language == "en"
    monkeypatch.setenv("CONSOLE_LANGUAGE", " ZH ")
    assert load_settings().console_language == "zh"
    with pytest.raises(RuntimeError, match="CONSOLE_LANGUAGE"):
        Settings(console_language="fr").check()


def test_money_and_dates_go_through_the_one_formatter():
    from decimal import Decimal

    from bot.domain.formatting import format_date, format_money

    zh, en = i18n.Speaker("zh"), i18n.Speaker("en")
    assert zh.money("1250.5", "CNY") == format_money(Decimal("1250.50"), "CNY", "zh") == "¥1,250.50"
    assert en.money(Decimal("1250.5"), "GBP") == "£1,250.50"
    assert zh.day("2026-12-15") == format_date(date(2026, 12, 15), "zh") == "2026年12月15日"
    assert zh.when("2026-12-15T14:30:00+00:00") == "2026年12月15日 14:30 UTC"
    assert en.when("2026-12-15T14:30:00+00:00") == "15 December 2026, 14:30 UTC"
    assert zh.percent(0.125) == "12.5%" and zh.percent(None) == "-"
