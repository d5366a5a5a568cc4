"""Settings, read once from the environment and an optional `.env` file.

Every setting has a safe default for a developer's machine. `APP_ENV` is
`development` or `production` (any case); anything else is refused at start-up.
In production `Settings.check()` refuses the development secrets, short or
repetitive secrets, one secret used for two purposes, and origins that are not
listed https origins (docs/deploy.md, "Production checks").
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEV_SECRET = "development-only-secret-change-me"
APP_ENVS = ("development", "production")
# Production secrets: long and random enough to resist guessing (e.g. `openssl rand -hex 32`).
MIN_SECRET_CHARS = 32
MIN_SECRET_BITS_PER_CHAR = 2.75  # Shannon entropy of the characters; random hex has about 3.5
MAX_ACTION_THREADS = 64  # each may hold a loan-store connection (bot/adapters/database.py)
_ORIGIN = re.compile(r"https?://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?")

# Settings whose text borrowers read. Each may be given per language with a
# suffix (LENDER_HOURS_ZH, CRISIS_LINE_ZH, ...); `Settings.text` picks it.
BORROWER_TEXTS = ("lender_name", "lender_hours", "crisis_line", "debt_advice", "emergency_number")
LANGUAGES = ("en", "zh")  # the languages a borrower is spoken to in
TRANSLATED_LANGUAGES = ("zh",)  # English is the settings' own value
# What offer learning may segment borrowers by (OFFER_SEGMENTS).
OFFER_SEGMENT_FIELDS = ("reason_code", "dpd_bucket", "product")

# Chinese for the built-in defaults, used while the lender keeps the default
# (a lender who changes LENDER_HOURS and sets no LENDER_HOURS_ZH gets their own
# text in both languages rather than a translation of something else).
_DEFAULT_TRANSLATIONS = {
    "zh": {
        "lender_hours": "周一至周五，上午9点至下午5点",
        "crisis_line": "撒玛利亚会（Samaritans），免费电话116 123，全天24小时服务",
        "debt_advice": "MoneyHelper（免费、公正的债务咨询），电话0800 138 7777，网址moneyhelper.org.uk",
    },
}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _str(name: str, default: str) -> str:
    raw = os.environ.get(name)
    return raw if raw not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    app_env: str = "development"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'loans.db'}"
    policy_file: Path = PROJECT_ROOT / "collections_policy.yml"
    lender_name: str = "Acme Lending"
    lender_phone: str = "0800 123 4567"
    lender_hours: str = "Monday to Friday, 9am to 5pm"
    payment_url_template: str = "https://pay.acme-lending.example/pay?token={token}"
    payment_link_secret: str = DEV_SECRET
    payment_link_ttl_minutes: int = 60 * 24
    verification_max_attempts: int = 3
    verification_lock_minutes: int = 30
    # Successive locks of one reference double up to this (bot.domain.verification).
    verification_max_lock_minutes: int = 24 * 60
    # Keys the verification counters (HMAC of each typed reference); empty: derived
    # from CHANNEL_IDENTITY_SECRET, which production requires.
    verification_attempt_secret: str = ""
    date_order: str = "DMY"
    default_language: str = "en"
    default_timezone: str = "Europe/London"
    handoff_destination: str = "database"
    handoff_webhook_url: str = ""
    handoff_reply_hours: int = 24
    crisis_line: str = "Samaritans, free on 116 123, any time of day or night"
    debt_advice: str = "MoneyHelper, free and impartial, on 0800 138 7777 or moneyhelper.org.uk"
    emergency_number: str = "999"  # named in the crisis response: 999 (UK), 911 (US), 120/110 (China)
    # {"zh": {"lender_hours": "..."}}: borrower texts per language, from NAME_ZH
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Channels. The host app signs widget tokens with WIDGET_JWT_SECRET; the
    # connectors sign the identity they vouch for (a verified token, a phone
    # number from a signed webhook) with CHANNEL_IDENTITY_SECRET for the actions.
    widget_jwt_secret: str = DEV_SECRET
    channel_identity_secret: str = DEV_SECRET
    # Origins allowed to open the widget's socket and to call Rasa from a browser
    # (CORS); empty: the widget page's own (http://127.0.0.1:WEB_PORT, localhost).
    widget_origins: str = ""
    web_port: int = 8080
    # The address Rasa (scripts/run.sh, `python -m bot cluster`'s proxy) listens on
    rasa_interface: str = "127.0.0.1"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    # Public base URL the platforms call (Twilio signs the full URL it posted to)
    public_base_url: str = "http://127.0.0.1:5005"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_sms_number: str = ""
    twilio_whatsapp_number: str = ""
    twilio_api_base_url: str = "https://api.twilio.com"
    telegram_bot_token: str = ""
    telegram_bot_name: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base_url: str = "https://api.telegram.org"
    # WeChat Official Account (channels/wechat.py, docs/channels.md)
    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_encoding_aes_key: str = ""
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    wechat_template_id: str = ""
    wechat_template_field: str = "content"
    wechat_reply_seconds: float = 4.5
    wechat_language: str = "zh"
    # Rasa's side (see `python -m bot endpoints` and docs/deploy.md)
    action_server_url: str = "http://127.0.0.1:5055/webhook"
    action_server_secret: str = DEV_SECRET
    # Rasa gives up on an action call after ACTION_CALL_TIMEOUT seconds and tells the
    # borrower nothing was recorded; the action server refuses (and rolls back) work on a
    # message older than ACTION_DEADLINE_SECONDS, which must stay below it.
    action_call_timeout: float = 10.0
    action_deadline_seconds: float = 8.0
    # The action server runs each call's database work in one of this many threads
    # (actions/threads.py), so it waits for several round trips at once; 0 runs the
    # actions on its event loop, one database round trip at a time.
    action_threads: int = 8
    # Each Rasa replica runs the custom actions itself (actions/in_process.py): no action
    # server, no HTTP or JSON over a socket per call; the trade-off in docs/deploy.md.
    actions_in_process: bool = False
    tracker_store_url: str = ""  # e.g. postgresql://rasa:secret@db:5432/rasa; empty: in memory
    # "off": the tracker store's PostgreSQL commits do not wait for the disk (a database
    # crash can lose the last fraction of a second of conversation events; docs/deploy.md)
    tracker_store_synchronous_commit: str = "on"
    lock_store_url: str = ""  # e.g. redis://127.0.0.1:6379/1; empty: in memory
    event_broker_url: str = ""  # e.g. amqp://guest:guest@127.0.0.1:5672/ ; empty: none
    event_broker_queue: str = "rasa_events"
    # Proactive reminders
    reminder_days_past_due: str = "1,7,14,30,60"
    reminder_due_in_days: int = 3
    contact_hours_start: int = 8
    contact_hours_end: int = 21
    max_contacts_per_7_days: int = 7
    # One optional question at the end of a conversation that resolved (bot/domain/feedback.py)
    feedback_question: bool = True
    # Payments in by webhook (channels/payments.py, docs/deploy.md "Payments in"): the
    # HMAC-SHA256 secret shared with the payment page or provider (empty: every delivery
    # is refused), how old a signed timestamp may be, and the thank-you on the borrower's
    # channel (within the contact rules).
    payment_webhook_secret: str = ""
    payment_webhook_tolerance_seconds: int = 300
    payment_thanks: bool = True
    # Offers learned from outcomes (bot/domain/offer_learning.py): off by default; the
    # exploration scale (1 = plain Thompson sampling, more explores more) and the segments.
    offer_learning: bool = False
    offer_exploration: float = 1.0
    offer_segments: str = "reason_code,dpd_bucket,product"
    # The team console (`python -m bot console`, issue 15): its port, the secret that signs
    # its session cookies, how long an idle session lasts, and its cookies' Secure flag
    # (on in production: serve it over https).
    console_port: int = 8090
    console_secret: str = ""  # empty: a development-only key; the console refuses to start so in production
    console_idle_minutes: int = 30
    console_language: str = "en"  # for operators who have not chosen one in the console's header

    @property
    def production(self) -> bool:
        """Anything but development counts as production (and `check` refuses unknown values)."""
        return self.app_env != "development"

    def allowed_origins(self) -> tuple[str, ...]:
        """WIDGET_ORIGINS as a list, or by default the widget page's own origin."""
        listed = tuple(o.strip().rstrip("/") for o in self.widget_origins.split(",") if o.strip())
        return listed or (f"http://127.0.0.1:{self.web_port}", f"http://localhost:{self.web_port}")

    def secrets(self) -> dict[str, str]:
        """Our own secrets that are set, by setting name (none may serve two purposes)."""
        named = {
            "PAYMENT_WEBHOOK_SECRET": self.payment_webhook_secret,
            "PAYMENT_LINK_SECRET": self.payment_link_secret,
            "WIDGET_JWT_SECRET": self.widget_jwt_secret,
            "CHANNEL_IDENTITY_SECRET": self.channel_identity_secret,
            "ACTION_SERVER_SECRET": self.action_server_secret,
            "RASA_TOKEN": self.rasa_token,
            "TELEGRAM_WEBHOOK_SECRET": self.telegram_webhook_secret,
            "WECHAT_TOKEN": self.wechat_token,
            "VERIFICATION_ATTEMPT_SECRET": self.verification_attempt_secret,
            "CONSOLE_SECRET": self.console_secret,
        }
        return {name: value for name, value in named.items() if value}

    def _check_production(self) -> None:
        """What production needs beyond development (docs/deploy.md, "Production checks")."""
        for name in ("PAYMENT_LINK_SECRET", "WIDGET_JWT_SECRET", "CHANNEL_IDENTITY_SECRET", "ACTION_SERVER_SECRET"):
            if getattr(self, name.lower()) == DEV_SECRET:
                raise RuntimeError(f"{name} must be set when APP_ENV=production")
        secrets = self.secrets()
        for name, value in secrets.items():
            if not strong_secret(value):
                raise RuntimeError(
                    f"{name} is too weak for production: use at least {MIN_SECRET_CHARS} random characters "
                    "(e.g. `openssl rand -hex 32`)"
                )
        seen: dict[str, str] = {}
        for name, value in secrets.items():
            if value in seen:
                raise RuntimeError(f"{seen[value]} and {name} must be different secrets in production")
            seen[value] = name
        if not self.widget_origins.strip() or "*" in self.allowed_origins():
            raise RuntimeError("WIDGET_ORIGINS must list the host app's origins when APP_ENV=production")
        plain = [o for o in self.allowed_origins() if not o.startswith("https://")]
        if plain:
            raise RuntimeError("WIDGET_ORIGINS must be https origins when APP_ENV=production")

    def text(self, name: str, language: str | None) -> str:
        """A borrower-facing setting (one of BORROWER_TEXTS) in the borrower's language."""
        value = getattr(self, name)
        lang = (language or self.default_language).replace("-", "_").split("_")[0].lower()
        own = self.translations.get(lang, {}).get(name)
        if own:
            return own
        if value == Settings.__dataclass_fields__[name].default:
            return _DEFAULT_TRANSLATIONS.get(lang, {}).get(name, value)
        return value

    def check(self) -> None:
        """Refuse to start with settings that would fail open (and production with development ones)."""
        if self.app_env not in APP_ENVS:
            raise RuntimeError(f"APP_ENV must be one of {', '.join(APP_ENVS)} (in any case); refusing to start")
        for origin in self.allowed_origins():
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise RuntimeError(
                    "WIDGET_ORIGINS must be * or origins like https://app.example.com (scheme, host, optional port)"
                )
        if self.production:
            self._check_production()
        if not 0 <= self.contact_hours_start < self.contact_hours_end <= 24:
            raise RuntimeError("CONTACT_HOURS_START and CONTACT_HOURS_END must be hours with start < end")
        if self.handoff_destination not in ("database", "webhook"):
            raise RuntimeError("HANDOFF_DESTINATION must be database or webhook")
        if self.handoff_destination == "webhook" and not self.handoff_webhook_url:
            raise RuntimeError("HANDOFF_WEBHOOK_URL is needed when HANDOFF_DESTINATION=webhook")
        if not 0 < self.action_deadline_seconds < self.action_call_timeout:
            raise RuntimeError(
                "ACTION_DEADLINE_SECONDS must be positive and below ACTION_CALL_TIMEOUT: the action "
                "server must stop before Rasa tells the borrower that nothing was recorded"
            )
        if self.tracker_store_synchronous_commit not in ("on", "off"):
            raise RuntimeError("TRACKER_STORE_SYNCHRONOUS_COMMIT must be on or off")
        if not 0 <= self.action_threads <= MAX_ACTION_THREADS:
            raise RuntimeError(f"ACTION_THREADS must be from 0 (on the event loop) to {MAX_ACTION_THREADS}")
        if self.date_order not in ("DMY", "MDY", "YMD"):
            raise RuntimeError("DATE_ORDER must be one of DMY, MDY, YMD")
        self._check_outcomes()
        self._check_wechat()

    def _check_outcomes(self) -> None:
        """Payments in and offers learned (issue 14)."""
        if not 1 <= self.payment_webhook_tolerance_seconds <= 3600:
            raise RuntimeError("PAYMENT_WEBHOOK_TOLERANCE_SECONDS must be from 1 to 3600")
        if not 0 < self.offer_exploration <= 100:
            raise RuntimeError("OFFER_EXPLORATION must be above 0 (1 is plain Thompson sampling) and at most 100")
        unknown = set(self.offer_segment_fields()) - set(OFFER_SEGMENT_FIELDS)
        if unknown:
            raise RuntimeError(
                f"OFFER_SEGMENTS may name only {', '.join(OFFER_SEGMENT_FIELDS)}, not {', '.join(sorted(unknown))}"
            )

    def offer_segment_fields(self) -> tuple[str, ...]:
        return tuple(f.strip() for f in self.offer_segments.split(",") if f.strip())

    def _check_wechat(self) -> None:
        """What the WeChat console accepts, and a reply budget inside its 5 seconds."""
        if self.wechat_token and not re.fullmatch(r"[A-Za-z0-9]{3,32}", self.wechat_token):
            raise RuntimeError("WECHAT_TOKEN must be 3 to 32 letters and digits (what the WeChat console accepts)")
        if self.wechat_encoding_aes_key and not re.fullmatch(r"[A-Za-z0-9]{43}", self.wechat_encoding_aes_key):
            raise RuntimeError("WECHAT_ENCODING_AES_KEY must be the 43 letters and digits the WeChat console shows")
        if self.wechat_encoding_aes_key and not self.wechat_app_id:
            raise RuntimeError("WECHAT_APP_ID is needed with WECHAT_ENCODING_AES_KEY (encrypted messages name it)")
        if not 0 < self.wechat_reply_seconds < 5:
            raise RuntimeError("WECHAT_REPLY_SECONDS must be above 0 and below 5 (WeChat waits 5 seconds)")
        if self.wechat_language not in LANGUAGES:
            raise RuntimeError(f"WECHAT_LANGUAGE must be one of {', '.join(LANGUAGES)}")
        if self.console_language not in LANGUAGES:
            raise RuntimeError(f"CONSOLE_LANGUAGE must be one of {', '.join(LANGUAGES)}")
        if not re.fullmatch(r"[A-Za-z0-9_]{1,32}", self.wechat_template_field):
            raise RuntimeError("WECHAT_TEMPLATE_FIELD must be a template field's key, such as content or thing1")


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    if raw.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if raw.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise RuntimeError(f"{name} must be on or off, not {raw!r}")


def strong_secret(value: str) -> bool:
    """At least MIN_SECRET_CHARS characters, and not repetitive (see MIN_SECRET_BITS_PER_CHAR)."""
    if len(value) < MIN_SECRET_CHARS:
        return False
    counts = Counter(value).values()
    bits = -sum(n / len(value) * math.log2(n / len(value)) for n in counts)
    return bits >= MIN_SECRET_BITS_PER_CHAR


def load_settings() -> Settings:
    """Read settings from the environment (after loading `.env`, which never overrides)."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    defaults = Settings()
    policy = Path(_str("POLICY_FILE", str(defaults.policy_file)))
    if not policy.is_absolute():
        policy = PROJECT_ROOT / policy
    settings = Settings(
        app_env=_str("APP_ENV", defaults.app_env).strip().lower(),
        database_url=_str("DATABASE_URL", defaults.database_url),
        policy_file=policy,
        lender_name=_str("LENDER_NAME", defaults.lender_name),
        lender_phone=_str("LENDER_PHONE", defaults.lender_phone),
        lender_hours=_str("LENDER_HOURS", defaults.lender_hours),
        payment_url_template=_str("PAYMENT_URL_TEMPLATE", defaults.payment_url_template),
        payment_link_secret=_str("PAYMENT_LINK_SECRET", defaults.payment_link_secret),
        payment_link_ttl_minutes=_int("PAYMENT_LINK_TTL_MINUTES", defaults.payment_link_ttl_minutes),
        verification_max_attempts=_int("VERIFICATION_MAX_ATTEMPTS", defaults.verification_max_attempts),
        verification_lock_minutes=_int("VERIFICATION_LOCK_MINUTES", defaults.verification_lock_minutes),
        verification_max_lock_minutes=_int("VERIFICATION_MAX_LOCK_MINUTES", defaults.verification_max_lock_minutes),
        verification_attempt_secret=_str("VERIFICATION_ATTEMPT_SECRET", defaults.verification_attempt_secret),
        date_order=_str("DATE_ORDER", defaults.date_order).upper(),
        default_language=_str("DEFAULT_LANGUAGE", defaults.default_language),
        default_timezone=_str("DEFAULT_TIMEZONE", defaults.default_timezone),
        handoff_destination=_str("HANDOFF_DESTINATION", defaults.handoff_destination),
        handoff_webhook_url=_str("HANDOFF_WEBHOOK_URL", defaults.handoff_webhook_url),
        handoff_reply_hours=_int("HANDOFF_REPLY_HOURS", defaults.handoff_reply_hours),
        crisis_line=_str("CRISIS_LINE", defaults.crisis_line),
        debt_advice=_str("DEBT_ADVICE", defaults.debt_advice),
        emergency_number=_str("EMERGENCY_NUMBER", defaults.emergency_number),
        translations={
            lang: {
                name: os.environ[f"{name.upper()}_{lang.upper()}"]
                for name in BORROWER_TEXTS
                if os.environ.get(f"{name.upper()}_{lang.upper()}")
            }
            for lang in TRANSLATED_LANGUAGES
        },
        widget_jwt_secret=_str("WIDGET_JWT_SECRET", defaults.widget_jwt_secret),
        channel_identity_secret=_str("CHANNEL_IDENTITY_SECRET", defaults.channel_identity_secret),
        widget_origins=_str("WIDGET_ORIGINS", defaults.widget_origins),
        web_port=_int("WEB_PORT", defaults.web_port),
        rasa_interface=_str("RASA_INTERFACE", defaults.rasa_interface).strip(),
        rasa_url=_str("RASA_URL", defaults.rasa_url).rstrip("/"),
        rasa_token=_str("RASA_TOKEN", defaults.rasa_token),
        public_base_url=_str("PUBLIC_BASE_URL", defaults.public_base_url).rstrip("/"),
        twilio_account_sid=_str("TWILIO_ACCOUNT_SID", defaults.twilio_account_sid),
        twilio_auth_token=_str("TWILIO_AUTH_TOKEN", defaults.twilio_auth_token),
        twilio_sms_number=_str("TWILIO_SMS_NUMBER", defaults.twilio_sms_number),
        twilio_whatsapp_number=_str("TWILIO_WHATSAPP_NUMBER", defaults.twilio_whatsapp_number),
        twilio_api_base_url=_str("TWILIO_API_BASE_URL", defaults.twilio_api_base_url).rstrip("/"),
        telegram_bot_token=_str("TELEGRAM_BOT_TOKEN", defaults.telegram_bot_token),
        telegram_bot_name=_str("TELEGRAM_BOT_NAME", defaults.telegram_bot_name),
        telegram_webhook_secret=_str("TELEGRAM_WEBHOOK_SECRET", defaults.telegram_webhook_secret),
        telegram_api_base_url=_str("TELEGRAM_API_BASE_URL", defaults.telegram_api_base_url).rstrip("/"),
        wechat_token=_str("WECHAT_TOKEN", defaults.wechat_token),
        wechat_app_id=_str("WECHAT_APP_ID", defaults.wechat_app_id),
        wechat_app_secret=_str("WECHAT_APP_SECRET", defaults.wechat_app_secret),
        wechat_encoding_aes_key=_str("WECHAT_ENCODING_AES_KEY", defaults.wechat_encoding_aes_key),
        wechat_api_base_url=_str("WECHAT_API_BASE_URL", defaults.wechat_api_base_url).rstrip("/"),
        wechat_template_id=_str("WECHAT_TEMPLATE_ID", defaults.wechat_template_id),
        wechat_template_field=_str("WECHAT_TEMPLATE_FIELD", defaults.wechat_template_field),
        wechat_reply_seconds=_float("WECHAT_REPLY_SECONDS", defaults.wechat_reply_seconds),
        wechat_language=_str("WECHAT_LANGUAGE", defaults.wechat_language),
        action_server_url=_str("ACTION_SERVER_URL", defaults.action_server_url),
        action_server_secret=_str("ACTION_SERVER_SECRET", defaults.action_server_secret),
        action_call_timeout=_float("ACTION_CALL_TIMEOUT", defaults.action_call_timeout),
        action_deadline_seconds=_float("ACTION_DEADLINE_SECONDS", defaults.action_deadline_seconds),
        action_threads=_int("ACTION_THREADS", defaults.action_threads),
        actions_in_process=_bool("ACTIONS_IN_PROCESS", defaults.actions_in_process),
        tracker_store_url=_str("TRACKER_STORE_URL", defaults.tracker_store_url),
        tracker_store_synchronous_commit=_str(
            "TRACKER_STORE_SYNCHRONOUS_COMMIT", defaults.tracker_store_synchronous_commit
        ).lower(),
        lock_store_url=_str("LOCK_STORE_URL", defaults.lock_store_url),
        event_broker_url=_str("EVENT_BROKER_URL", defaults.event_broker_url),
        event_broker_queue=_str("EVENT_BROKER_QUEUE", defaults.event_broker_queue),
        reminder_days_past_due=_str("REMINDER_DAYS_PAST_DUE", defaults.reminder_days_past_due),
        reminder_due_in_days=_int("REMINDER_DUE_IN_DAYS", defaults.reminder_due_in_days),
        contact_hours_start=_int("CONTACT_HOURS_START", defaults.contact_hours_start),
        contact_hours_end=_int("CONTACT_HOURS_END", defaults.contact_hours_end),
        max_contacts_per_7_days=_int("MAX_CONTACTS_PER_7_DAYS", defaults.max_contacts_per_7_days),
        feedback_question=_bool("FEEDBACK_QUESTION", defaults.feedback_question),
        payment_webhook_secret=_str("PAYMENT_WEBHOOK_SECRET", defaults.payment_webhook_secret),
        payment_webhook_tolerance_seconds=_int(
            "PAYMENT_WEBHOOK_TOLERANCE_SECONDS", defaults.payment_webhook_tolerance_seconds
        ),
        payment_thanks=_bool("PAYMENT_THANKS", defaults.payment_thanks),
        offer_learning=_bool("OFFER_LEARNING", defaults.offer_learning),
        offer_exploration=_float("OFFER_EXPLORATION", defaults.offer_exploration),
        offer_segments=_str("OFFER_SEGMENTS", defaults.offer_segments),
        console_port=_int("CONSOLE_PORT", defaults.console_port),
        console_secret=_str("CONSOLE_SECRET", defaults.console_secret),
        console_idle_minutes=_int("CONSOLE_IDLE_MINUTES", defaults.console_idle_minutes),
        console_language=_str("CONSOLE_LANGUAGE", defaults.console_language).strip().lower(),
    )
    settings.check()
    return settings
