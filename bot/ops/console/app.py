"""The console's pages and actions (Starlette + Jinja2, rendered on the server).

Every route but the log-in page needs a logged-in operator; every POST needs
the session's CSRF token; each action needs its permission
(bot.domain.operators.PERMISSIONS). Reads and writes go through the loan store
(bot.adapters.store), the same methods the command-line tools use, and every
change is in the loan's audit trail with the operator's name. A conversation is
taken over through Rasa's own pause and resume (bot.adapters.rasa_conversations).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.adapters.rasa_conversations import RasaConversations, RasaUnavailable
from bot.adapters.store import LoanStore
from bot.domain.accounts import CASE_OUTCOMES, UnknownLoan, UnknownReference
from bot.domain.clock import utcnow
from bot.domain.operators import (
    ROLES,
    HandoffClosed,
    InvalidOperator,
    LoginThrottle,
    NotYours,
    Operator,
    check_password,
)
from bot.domain.parsing import normalise_loan_ref
from bot.ops.console.i18n import (
    LANGUAGE_COOKIE,
    LANGUAGE_NAMES,
    LANGUAGES,
    N_,
    Speaker,
    normalise_language,
    translations,
)
from bot.ops.console.security import (
    COOKIE,
    Session,
    SessionCodec,
    burn_time,
    csrf_ok,
    hash_password,
    needs_rehash,
    session_valid_for,
    verify_password,
)
from bot.services.handoff import transcript_from_events
from bot.settings import Settings

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
MAX_MESSAGE_CHARS = 1000
MAX_NOTE_CHARS = 2000
MAX_FORM_BYTES = 16 * 1024
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)


@dataclass
class Context:
    request: Request
    session: Session
    operator: Operator
    form: FormData | None


Handler = Callable[[Context], Awaitable[Response]]


class Console:
    def __init__(
        self,
        settings: Settings,
        store: LoanStore,
        rasa: RasaConversations,
        *,
        clock: Callable[[], datetime] = utcnow,
        throttle: LoginThrottle | None = None,
        default_language: str | None = None,
    ):
        self.settings = settings
        self.store = store
        self.rasa = rasa
        self.clock = clock
        self.throttle = throttle or LoginThrottle()
        self.codec = SessionCodec(settings.console_secret, settings.console_idle_minutes)
        self.secure_cookies = settings.production
        # the lender's language (CONSOLE_LANGUAGE) for operators who have not chosen one
        self.default_language = normalise_language(default_language) or settings.console_language
        self.templates = {language: _templates(language) for language in LANGUAGES}

    # --- plumbing

    def _set_language_cookie(self, response: Response, language: str) -> None:
        """The language of the log-in page, kept for a year (before log-in and after log-out)."""
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="strict",
            secure=self.secure_cookies,
            path="/",
        )

    def _set_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self.codec.dumps(session),
            max_age=self.codec.idle_seconds,
            httponly=True,
            samesite="strict",
            secure=self.secure_cookies,
            path="/",
        )

    def language(self, request: Request, operator: Operator | None) -> str:
        """The operator's own choice, else (before log-in) the log-in page's, else the lender's."""
        if operator is not None:
            return normalise_language(operator.language) or self.default_language
        return normalise_language(request.cookies.get(LANGUAGE_COOKIE)) or self.default_language

    def words(self, ctx: Context | None, request: Request) -> Speaker:
        return Speaker(self.language(request, ctx.operator if ctx else None))

    def render(
        self, ctx: Context | None, request: Request, template: str, /, status: int = 200, **values: Any
    ) -> Response:
        language = self.language(request, ctx.operator if ctx else None)
        values.setdefault("operator", ctx.operator if ctx else None)
        values.setdefault("csrf", ctx.session.csrf if ctx else "")
        values.setdefault("here", _safe_next(request.url.path))
        response = self.templates[language].TemplateResponse(request, template, values, status_code=status)
        response.headers["Content-Language"] = "zh-Hans" if language == "zh" else language
        return response

    def refused(self, ctx: Context, message: str, status: int = 403, **values: Any) -> Response:
        """A page saying why not, in the operator's language (`message`: a catalogue id)."""
        words = self.words(ctx, ctx.request)
        return self.render(
            ctx,
            ctx.request,
            "message.html",
            status=status,
            title=words.gettext(N_("Not allowed")),
            message=words.gettext(message, **values),
        )

    def too_large(self, request: Request, operator: Operator | None) -> Response:
        return PlainTextResponse(Speaker(self.language(request, operator)).gettext(N_("Too large.")), status_code=413)

    def csrf_refused(self, request: Request, operator: Operator | None) -> Response:
        say = Speaker(self.language(request, operator)).gettext
        return PlainTextResponse(
            say(N_("Refused: the form was out of date (CSRF). Reload the page and try again.")), status_code=403
        )

    def guard(self, permission: str, handler: Handler, *, refresh: bool = True, api: bool = False) -> Callable:
        """The route behind a log-in, CSRF on POST and a permission."""

        async def endpoint(request: Request) -> Response:
            now = self.clock()
            session = self.codec.loads(request.cookies.get(COOKIE), now=now)
            operator = None
            if session is not None and session.operator:
                operator = await run_in_threadpool(self.store.operator, session.operator)
            if session is None or not session_valid_for(session, operator):
                if api:
                    return JSONResponse({"error": "log in again"}, status_code=401)
                target = request.url.path if request.method == "GET" else "/"
                return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            assert operator is not None
            form = None
            if request.method == "POST":
                if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
                    return self.too_large(request, operator)
                form = await request.form()
                token = form.get("csrf") or request.headers.get("x-csrf-token")
                if not csrf_ok(session, token if isinstance(token, str) else None):
                    return self.csrf_refused(request, operator)
            ctx = Context(request, session, operator, form)
            if not operator.may(permission):
                if api:
                    return JSONResponse({"error": "not allowed"}, status_code=403)
                return self.refused(
                    ctx,
                    N_("Your role (%(role)s) cannot do this."),
                    role=self.words(ctx, request).label("role", operator.role),
                )
            try:
                response = await handler(ctx)
            except NotYours as not_yours:
                who = not_yours.claimed_by
                if who:
                    response = self.refused(ctx, N_("This conversation is being worked by %(name)s."), name=who)
                else:
                    response = self.refused(ctx, N_("Claim this conversation first."))
            except HandoffClosed:
                response = self.refused(ctx, N_("This handoff is already done."), status=409)
            except (UnknownReference, UnknownLoan):
                response = self.refused(ctx, N_("Nothing has that reference."), status=404)
            except RasaUnavailable as down:  # the detail is the assistant's own (technical, in English)
                response = self.refused(
                    ctx, N_("Nothing was changed: %(error)s. Try again in a moment."), status=502, error=str(down)
                )
            if refresh:  # the idle timeout counts from the operator's last page or action
                self._set_cookie(response, Session(session.operator, session.csrf, session.issued_at))
            response.headers["Cache-Control"] = "no-store"
            return response

        return endpoint

    def field(self, ctx: Context, name: str, limit: int = 200) -> str:
        value = ctx.form.get(name) if ctx.form is not None else None
        return value.strip()[:limit] if isinstance(value, str) else ""

    # --- log-in and log-out

    async def login_page(self, request: Request) -> Response:
        now = self.clock()
        session = self.codec.loads(request.cookies.get(COOKIE), now=now) or self.codec.new(None, now)
        chosen = normalise_language(request.query_params.get("lang"))
        if chosen is not None:  # the language links on the log-in page
            request.cookies[LANGUAGE_COOKIE] = chosen
        response = self.render(
            None, request, "login.html", csrf=session.csrf, next=_safe_next(request.query_params.get("next"))
        )
        self._set_cookie(response, Session(None, session.csrf, session.issued_at))
        if chosen is not None:
            self._set_language_cookie(response, chosen)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def login(self, request: Request) -> Response:
        now = self.clock()
        session = self.codec.loads(request.cookies.get(COOKIE), now=now)
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            return self.too_large(request, None)
        form = await request.form()
        token = form.get("csrf")
        if session is None or not csrf_ok(session, token if isinstance(token, str) else None):
            return self.csrf_refused(request, None)
        name = str(form.get("name") or "").strip().lower()[:64]
        password = str(form.get("password") or "")[:256]
        next_url = _safe_next(str(form.get("next") or ""))

        def again(message: str, status: int, **values: Any) -> Response:
            fresh = self.codec.new(None, now)
            error = Speaker(self.language(request, None)).gettext(message, **values)
            response = self.render(
                None, request, "login.html", status, csrf=fresh.csrf, next=next_url, error=error, name=name
            )
            self._set_cookie(response, fresh)
            return response

        failures, last = await run_in_threadpool(self.store.login_failures, name)
        if self.throttle.is_locked(failures, last, now):
            until = self.throttle.locked_until(failures, last) if last else None
            minutes = max(1, int(((until or now) - now).total_seconds() // 60) + 1)
            return again(
                N_("Too many wrong passwords: try again in %(minutes)s minute(s), or ask an admin."),
                429,
                minutes=minutes,
            )
        found = await run_in_threadpool(self.store.operator_password_hash, name)
        if found is None:
            burn_time(password)
        ok = found is not None and found[0].active and verify_password(found[1], password)
        if not ok:
            await run_in_threadpool(self.store.record_login_failure, name, now=now)
            return again(N_("That name and password do not match an active operator."), 401)
        assert found is not None
        operator, stored = found
        rehashed = hash_password(password) if needs_rehash(stored) else None
        await run_in_threadpool(self.store.record_login, operator.name, now=now, password_hash=rehashed)
        response = RedirectResponse(next_url, status_code=303)
        self._set_cookie(response, self.codec.new(operator.name, now))  # a new CSRF token with the new session
        return response

    async def logout(self, ctx: Context) -> Response:
        await run_in_threadpool(self.store.end_sessions, ctx.operator.name, now=self.clock())
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    async def set_language(self, ctx: Context) -> Response:
        """The operator's console language, from the header's switch; back to the same page."""
        language = normalise_language(self.field(ctx, "language", 16))
        if language is None:
            return self.refused(ctx, N_("Choose English or Chinese."), status=400)
        await run_in_threadpool(self.store.set_operator_language, ctx.operator.name, language)
        response = RedirectResponse(_safe_next(self.field(ctx, "next", 300)), status_code=303)
        self._set_language_cookie(response, language)  # the log-in page after log-out keeps it
        return response

    # --- the queue and one handoff

    async def queue(self, ctx: Context) -> Response:
        handoffs = await run_in_threadpool(self.store.handoffs, status="queued")
        handoffs.sort(key=lambda h: (h["priority"] != "urgent", h["reply_by"] or "9999", h["created_at"]))
        operators = await run_in_threadpool(self.store.operators)
        return self.render(
            ctx,
            ctx.request,
            "queue.html",
            handoffs=handoffs,
            now=self.clock().isoformat(),
            operators=[o.name for o in operators if o.active],
        )

    async def handoff(self, ctx: Context) -> Response:
        ref = ctx.request.path_params["ref"].upper()
        handoff = await run_in_threadpool(self.store.handoff, ref)
        loan = None
        if handoff["loan_ref"]:
            loan = await run_in_threadpool(self.store.loan_report, handoff["loan_ref"])
        live_error = None
        try:
            tracker = await run_in_threadpool(self.rasa.tracker, handoff["conversation_id"])
            lines = conversation_lines(tracker.get("events") or [])
            paused = bool(tracker.get("paused"))
            language = (tracker.get("slots") or {}).get("language")
        except RasaUnavailable as down:
            live_error = str(down)
            lines, paused, language = [], handoff["taken_over_at"] is not None, None
        if not lines:  # Rasa cannot be reached, or no longer has the conversation: what was saved with the handoff
            live_error = live_error or self.words(ctx, ctx.request).gettext(
                N_("the assistant no longer has this conversation")
            )
            lines = [{"from": line["from"], "text": line["text"], "by": None} for line in handoff["transcript"]]
        operators = await run_in_threadpool(self.store.operators)
        notes = await run_in_threadpool(self.store.handoff_notes, ref)
        return self.render(
            ctx,
            ctx.request,
            "handoff.html",
            notes=notes,
            handoff=handoff,
            loan=loan,
            lines=lines,
            paused=paused,
            language=language or (loan["borrower"]["language"] if loan else None),
            live_error=live_error,
            mine=handoff["claimed_by"] == ctx.operator.name,
            operators=[o.name for o in operators if o.active],
            max_message=MAX_MESSAGE_CHARS,
        )

    async def messages(self, ctx: Context) -> Response:
        """The conversation's lines after the first `after`, for the live view (polled every ~1.5 s)."""
        ref = ctx.request.path_params["ref"].upper()
        handoff = await run_in_threadpool(self.store.handoff, ref)
        try:
            after = max(0, int(ctx.request.query_params.get("after", "0")))
        except ValueError:
            after = 0
        try:
            tracker = await run_in_threadpool(self.rasa.tracker, handoff["conversation_id"])
        except RasaUnavailable as down:
            return JSONResponse({"error": str(down)}, status_code=502)
        lines = conversation_lines(tracker.get("events") or [])
        return JSONResponse(
            {
                "lines": lines[after:],
                "count": len(lines),
                "paused": bool(tracker.get("paused")),
                "claimed_by": handoff["claimed_by"],
                "status": handoff["status"],
            }
        )

    def _back(self, ref: str) -> Response:
        return RedirectResponse(f"/handoffs/{quote(ref)}", status_code=303)

    async def claim(self, ctx: Context) -> Response:
        ref = ctx.request.path_params["ref"].upper()
        await run_in_threadpool(lambda: self.store.claim_handoff(ref, by=ctx.operator.name))
        return self._back(ref)

    async def release(self, ctx: Context) -> Response:
        ref = ctx.request.path_params["ref"].upper()
        any_operator = ctx.operator.may("reassign_any")
        await run_in_threadpool(
            lambda: self.store.release_handoff(ref, by=ctx.operator.name, any_operator=any_operator)
        )
        return RedirectResponse("/queue", status_code=303)

    async def reassign(self, ctx: Context) -> Response:
        ref = ctx.request.path_params["ref"].upper()
        to = self.field(ctx, "to", 64).lower()
        target = await run_in_threadpool(self.store.operator, to)
        if target is None or not target.active:
            return self.refused(ctx, N_("Choose an active operator to give it to."), status=400)
        handoff = await run_in_threadpool(self.store.handoff, ref)
        if handoff["taken_over_at"]:
            return self.refused(ctx, N_("Hand the conversation back to the assistant before reassigning it."), 409)
        any_operator = ctx.operator.may("reassign_any")
        await run_in_threadpool(
            lambda: self.store.reassign_handoff(ref, to=to, by=ctx.operator.name, any_operator=any_operator)
        )
        return self._back(ref)

    async def take_over(self, ctx: Context) -> Response:
        ref = ctx.request.path_params["ref"].upper()
        handoff = await run_in_threadpool(self.store.handoff, ref)
        if handoff["status"] != "queued":
            raise HandoffClosed(ref)
        if handoff["claimed_by"] != ctx.operator.name:
            raise NotYours(handoff["claimed_by"])
        await run_in_threadpool(self.rasa.pause, handoff["conversation_id"])
        await run_in_threadpool(lambda: self.store.mark_taken_over(ref, by=ctx.operator.name, taken=True))
        try:  # the borrower is told a person is writing now (domain.yml/console.yml)
            await self._announce(handoff["conversation_id"], "utter_person_joined", ctx.operator.name)
        except RasaUnavailable as down:
            return self.refused(
                ctx,
                N_("You have taken the conversation over, but the borrower could not be told (%(error)s)."),
                502,
                error=str(down),
            )
        return self._back(ref)

    async def _announce(self, conversation_id: str, response: str, operator: str) -> None:
        from bot.ops.console.responses import response_text

        tracker = await run_in_threadpool(self.rasa.tracker, conversation_id)
        text = response_text(response, (tracker.get("slots") or {}).get("language"))
        await run_in_threadpool(lambda: self.rasa.say(conversation_id, text, operator=operator, response=response))

    async def send(self, ctx: Context) -> Response:
        ref = ctx.request.path_params["ref"].upper()
        text = self.field(ctx, "text", MAX_MESSAGE_CHARS + 1)
        if not text or len(text) > MAX_MESSAGE_CHARS:
            return self.refused(
                ctx, N_("Write a message of 1 to %(limit)s characters."), status=400, limit=MAX_MESSAGE_CHARS
            )
        handoff = await run_in_threadpool(self.store.handoff, ref)
        if handoff["status"] != "queued":
            raise HandoffClosed(ref)
        if handoff["claimed_by"] != ctx.operator.name:
            raise NotYours(handoff["claimed_by"])
        if not handoff["taken_over_at"]:
            return self.refused(ctx, N_("Take the conversation over before writing to the borrower."), status=409)
        await run_in_threadpool(lambda: self.rasa.say(handoff["conversation_id"], text, operator=ctx.operator.name))
        await run_in_threadpool(lambda: self.store.record_agent_message(ref, by=ctx.operator.name, text=text))
        if ctx.request.headers.get("x-requested-with") == "fetch":
            return JSONResponse({"sent": True})
        return self._back(ref)

    async def note(self, ctx: Context) -> Response:
        """Any operator may leave the team a note on a handoff (in the loan's audit trail)."""
        ref = ctx.request.path_params["ref"].upper()
        text = self.field(ctx, "text", MAX_NOTE_CHARS + 1)
        if not text or len(text) > MAX_NOTE_CHARS:
            return self.refused(ctx, N_("Write a note of 1 to %(limit)s characters."), status=400, limit=MAX_NOTE_CHARS)
        await run_in_threadpool(lambda: self.store.add_handoff_note(ref, by=ctx.operator.name, text=text))
        return self._back(ref)

    async def hand_back(self, ctx: Context) -> Response:
        """The assistant answers again, where it was; the handoff is done."""
        ref = ctx.request.path_params["ref"].upper()
        note = self.field(ctx, "note", MAX_NOTE_CHARS) or None
        handoff = await run_in_threadpool(self.store.handoff, ref)
        if handoff["status"] != "queued":
            raise HandoffClosed(ref)
        if handoff["claimed_by"] != ctx.operator.name:
            raise NotYours(handoff["claimed_by"])
        if handoff["taken_over_at"]:
            await self._announce(handoff["conversation_id"], "utter_person_left", ctx.operator.name)
            await run_in_threadpool(self.rasa.resume, handoff["conversation_id"])
            await run_in_threadpool(
                lambda: self.store.mark_taken_over(ref, by=ctx.operator.name, taken=False, note=note)
            )
        await run_in_threadpool(lambda: self.store.complete_handoff(ref, by=ctx.operator.name, note=note))
        return RedirectResponse("/queue", status_code=303)

    # --- cases, vulnerability, loans

    async def cases(self, ctx: Context) -> Response:
        show_all = ctx.request.query_params.get("all") == "1"
        cases = await run_in_threadpool(lambda: self.store.cases(status=None if show_all else "open"))
        return self.render(ctx, ctx.request, "cases.html", cases=cases, show_all=show_all)

    async def close_case(self, ctx: Context) -> Response:
        ref = ctx.request.path_params["ref"].upper()
        outcome = self.field(ctx, "outcome", 32)
        note = self.field(ctx, "note", MAX_NOTE_CHARS)
        if outcome not in CASE_OUTCOMES or not note:
            return self.refused(ctx, N_("Choose an outcome and write a note of what was found."), status=400)
        await run_in_threadpool(lambda: self.store.close_case(ref, outcome, by=ctx.operator.name, note=note))
        return RedirectResponse("/cases", status_code=303)

    async def vulnerability(self, ctx: Context) -> Response:
        flagged = await run_in_threadpool(self.store.vulnerable_loans)
        return self.render(ctx, ctx.request, "vulnerability.html", flagged=flagged)

    async def clear_vulnerability(self, ctx: Context) -> Response:
        ref = _loan_ref(ctx.request.path_params["ref"])
        note = self.field(ctx, "note", MAX_NOTE_CHARS)
        if not note:
            return self.refused(ctx, N_("Write what was agreed with the borrower before clearing the flag."), 400)
        await run_in_threadpool(lambda: self.store.clear_vulnerability(ref, by=ctx.operator.name, note=note))
        return RedirectResponse(f"/loans/{quote(ref)}", status_code=303)

    async def loan_search(self, ctx: Context) -> Response:
        query = ctx.request.query_params.get("q", "").strip()
        if query:
            return RedirectResponse(f"/loans/{quote(_loan_ref(query))}", status_code=303)
        return self.render(ctx, ctx.request, "loan_search.html")

    async def loan(self, ctx: Context) -> Response:
        ref = _loan_ref(ctx.request.path_params["ref"])
        report = await run_in_threadpool(self.store.loan_report, ref)
        overview = await run_in_threadpool(self.store.loan_overview, ref)
        cases = await run_in_threadpool(lambda: self.store.cases(ref))
        handoffs = [h for h in await run_in_threadpool(self.store.handoffs) if h["loan_ref"] == ref]
        return self.render(
            ctx, ctx.request, "loan.html", loan=report, overview=overview, cases=cases, handoffs=handoffs
        )

    # --- the dashboard (supervisors)

    def _period(self, ctx: Context) -> tuple[date, date, str | None]:
        from bot.services.reporting import default_period, parse_day

        params = ctx.request.query_params
        end, start = default_period()[1], None
        error = None
        try:
            if params.get("to"):
                end = parse_day(params["to"])
            start = parse_day(params["from"]) if params.get("from") else default_period(end)[0]
        except ValueError:
            error, start = (
                N_("Give the days as YYYY-MM-DD; showing the 30 days up to the last."),
                default_period(end)[0],
            )
        if start > end:
            error, start = (
                N_("The first day is after the last; showing the 30 days up to the last."),
                default_period(end)[0],
            )
        return start, end, error

    async def dashboard(self, ctx: Context) -> Response:
        from bot.services.reporting import build_report, render_text

        start, end, error = self._period(ctx)
        report = await run_in_threadpool(build_report, self.store, start, end)
        return self.render(
            ctx,
            ctx.request,
            "dashboard.html",
            report=report,
            text=render_text(report),
            start=start,
            end=end,
            error=self.words(ctx, ctx.request).gettext(error) if error else None,
        )

    async def dashboard_chart(self, ctx: Context) -> Response:
        from bot.services.reporting import build_report, write_plot

        start, end, _ = self._period(ctx)
        report = await run_in_threadpool(build_report, self.store, start, end)

        def plot() -> bytes:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "report.png"
                write_plot(report, path)
                return path.read_bytes()

        return Response(await run_in_threadpool(plot), media_type="image/png")

    # --- operators (admins)

    async def operators(self, ctx: Context, *, error: str | None = None, status: int = 200) -> Response:
        operators = await run_in_threadpool(self.store.operators)
        return self.render(ctx, ctx.request, "operators.html", status=status, operators=operators, error=error)

    async def add_operator(self, ctx: Context) -> Response:
        try:
            password = check_password(ctx.form.get("password") if ctx.form else "")  # type: ignore[arg-type]
            name, role = self.field(ctx, "name", 64), self.field(ctx, "role", 16)
            await run_in_threadpool(
                lambda: self.store.add_operator(name, role, hash_password(password), by=ctx.operator.name)
            )
        except InvalidOperator as bad:
            return await self.operators(ctx, error=self._invalid(ctx, bad), status=400)
        except TypeError:
            return await self.operators(
                ctx, error=self.words(ctx, ctx.request).gettext(N_("Give a name, a role and a password.")), status=400
            )
        return RedirectResponse("/operators", status_code=303)

    async def change_operator(self, ctx: Context) -> Response:
        name = ctx.request.path_params["name"].lower()
        role = self.field(ctx, "role", 16) or None
        active_field = self.field(ctx, "active", 8)
        active = {"yes": True, "no": False}.get(active_field)
        password = ctx.form.get("password") if ctx.form else None
        try:
            if name == ctx.operator.name and (active is False or (role and role != ctx.operator.role)):
                raise InvalidOperator(N_("You cannot lower your own role or deactivate yourself; ask another admin."))
            new_hash = hash_password(check_password(password)) if isinstance(password, str) and password else None
            await run_in_threadpool(
                lambda: self.store.update_operator(
                    name, by=ctx.operator.name, role=role, active=active, password_hash=new_hash
                )
            )
        except InvalidOperator as bad:
            return await self.operators(ctx, error=self._invalid(ctx, bad), status=400)
        return RedirectResponse("/operators", status_code=303)

    def _invalid(self, ctx: Context, bad: InvalidOperator) -> str:
        """Why an operator was refused, in the operator's language (the domain's template, translated)."""
        return self.words(ctx, ctx.request).gettext(bad.template, **bad.values)

    # --- the app

    def routes(self) -> list:
        g = self.guard

        async def home(ctx: Context) -> Response:
            return RedirectResponse("/queue", status_code=303)

        async def health(_request: Request) -> Response:
            return JSONResponse({"status": "ok"})

        return [
            Route("/health", health),
            Route("/login", self.login_page, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", g("work_conversations", self.logout, refresh=False), methods=["POST"]),
            Route("/", g("work_conversations", home)),
            Route("/language", g("work_conversations", self.set_language), methods=["POST"]),
            Route("/queue", g("work_conversations", self.queue)),
            Route("/handoffs/{ref}", g("work_conversations", self.handoff)),
            Route(
                "/handoffs/{ref}/messages",
                g("work_conversations", self.messages, refresh=False, api=True),
            ),
            Route("/handoffs/{ref}/claim", g("work_conversations", self.claim), methods=["POST"]),
            Route("/handoffs/{ref}/release", g("work_conversations", self.release), methods=["POST"]),
            Route("/handoffs/{ref}/reassign", g("work_conversations", self.reassign), methods=["POST"]),
            Route("/handoffs/{ref}/take-over", g("work_conversations", self.take_over), methods=["POST"]),
            Route("/handoffs/{ref}/send", g("work_conversations", self.send), methods=["POST"]),
            Route("/handoffs/{ref}/hand-back", g("work_conversations", self.hand_back), methods=["POST"]),
            Route("/handoffs/{ref}/note", g("work_conversations", self.note), methods=["POST"]),
            Route("/cases", g("view_cases", self.cases)),
            Route("/cases/{ref}/close", g("close_cases", self.close_case), methods=["POST"]),
            Route("/vulnerability", g("view_cases", self.vulnerability)),
            Route(
                "/loans/{ref}/clear-vulnerability",
                g("clear_vulnerability", self.clear_vulnerability),
                methods=["POST"],
            ),
            Route("/loans", g("view_loans", self.loan_search)),
            Route("/loans/{ref}", g("view_loans", self.loan)),
            Route("/dashboard", g("view_reports", self.dashboard)),
            Route("/dashboard/chart.png", g("view_reports", self.dashboard_chart)),
            Route("/operators", g("manage_operators", self.operators)),
            Route("/operators", g("manage_operators", self.add_operator), methods=["POST"]),
            Route("/operators/{name}", g("manage_operators", self.change_operator), methods=["POST"]),
            Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
        ]

    def app(self) -> Starlette:
        return Starlette(routes=self.routes(), middleware=[Middleware(SecurityHeaders)])


class SecurityHeaders:
    """Every answer: a strict Content-Security-Policy (nothing but this site), no sniffing, no framing."""

    HEADERS = (
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    )

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + list(self.HEADERS)
            await send(message)

        await self.app(scope, receive, with_headers)


def conversation_lines(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation as the console shows it: the borrower, the assistant and the team's
    operators by name; dates of birth withheld, card and ID numbers masked
    (bot.services.handoff.transcript_from_events)."""
    lines: list[dict[str, Any]] = []
    for event in events:
        if event.get("event") not in ("user", "bot") or not event.get("text"):
            if event.get("event") in ("pause", "resume"):
                lines.append({"from": "system", "text": event["event"], "by": None})
            continue
        masked = transcript_from_events([event], limit=1)
        if not masked:
            continue
        operator = (event.get("metadata") or {}).get("operator") if event.get("event") == "bot" else None
        lines.append(
            {
                "from": "agent" if operator else masked[0]["from"],
                "text": masked[0]["text"],
                "by": operator if isinstance(operator, str) else None,
            }
        )
    return lines


def _loan_ref(raw: str) -> str:
    return normalise_loan_ref(raw) or raw.strip().upper()[:32]


def _safe_next(value: str | None) -> str:
    """Only a path on this site (never another host) after logging in."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/queue"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.startswith("/login"):
        return "/queue"
    return parts.path


def _as_written(value: object) -> Markup:
    """A name or a detail as it was written (an operator's name, an error from the assistant),
    set apart in a translated sentence and marked as not for translation."""
    return Markup('<bdi translate="no">{}</bdi>').format("" if value is None else value)


def _templates(language: str) -> Jinja2Templates:
    """The pages in one language: Jinja's i18n extension over that language's catalogue,
    with its formats (bot.ops.console.i18n.Speaker) and the words console.js shows."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=jinja2.select_autoescape(),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    speaker = Speaker(language)
    say = speaker.gettext
    env.globals.update(speaker.globals())
    env.globals["who"] = _as_written
    env.globals.update(
        roles=ROLES,
        case_outcomes=CASE_OUTCOMES,
        language_names=LANGUAGE_NAMES,
        speakers={"borrower": say(N_("borrower")), "assistant": say(N_("assistant"))},
        script_words={  # console.js: the countdowns and the live transcript
            "within": say(N_("reply within %(time)s")),
            "overdue": say(N_("reply overdue by %(time)s")),
            "h": say(N_("%(n)s h")),
            "min": say(N_("%(n)s min")),
            "s": say(N_("%(n)s s")),
            "paused": say(N_("assistant paused")),
            "resumed": say(N_("assistant resumed")),
            "agent": say(N_("agent")),
            "borrower": say(N_("borrower")),
            "assistant": say(N_("assistant")),
        },
    )
    return Jinja2Templates(env=env)


def build_app(settings: Settings, store: LoanStore, rasa: RasaConversations | None = None, **kwargs: Any) -> Starlette:
    rasa = rasa or RasaConversations(settings.rasa_url, settings.rasa_token)
    return Console(settings, store, rasa, **kwargs).app()


def serve(settings: Settings, store: LoanStore, *, host: str, port: int) -> None:
    import uvicorn

    if settings.production and not settings.console_secret:
        raise SystemExit("CONSOLE_SECRET must be set when APP_ENV=production (e.g. `openssl rand -hex 32`)")
    app = build_app(settings, store)
    print(f"Team console on http://{host}:{port}/ (talking to the assistant at {settings.rasa_url})", flush=True)
    # ws="none": the console needs no WebSocket (and Rasa pins an older websockets)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False, ws="none")
