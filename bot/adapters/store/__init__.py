"""The loan store: the only code that touches the ORM.

Actions, services, the CLI and the importer call `LoanStore` methods and get
plain, immutable views (bot.domain) back. Every write is one transaction that
also appends to the audit log, so a record and its audit event are stored
together or not at all. The methods are grouped by concern, one module each;
`LoanStore` puts them behind one door.
"""

from __future__ import annotations

from bot.adapters.database import Database
from bot.adapters.store.accounts import AccountRecords
from bot.adapters.store.agreements import AgreementRecords
from bot.adapters.store.cases import CaseRecords
from bot.adapters.store.console import ConsoleRecords
from bot.adapters.store.contact import ContactRecords
from bot.adapters.store.deferrals import DeferralRecords
from bot.adapters.store.escalations import EscalationRecords
from bot.adapters.store.feedback import FeedbackRecords
from bot.adapters.store.handoffs import HandoffRecords
from bot.adapters.store.lifecycle import LifecycleRecords
from bot.adapters.store.offers import OfferRecords
from bot.adapters.store.operators import OperatorRecords
from bot.adapters.store.outreach import OutreachRecords
from bot.adapters.store.payments import PaymentRecords
from bot.adapters.store.portfolio import PortfolioRecords
from bot.adapters.store.reports import ReportRecords
from bot.adapters.store.verification import VerificationRecords
from bot.domain.verification import LockRules
from bot.settings import DEV_SECRET

__all__ = ["LoanStore"]


class LoanStore(
    VerificationRecords,
    AccountRecords,
    AgreementRecords,
    CaseRecords,
    HandoffRecords,
    ContactRecords,
    DeferralRecords,
    OutreachRecords,
    PaymentRecords,
    LifecycleRecords,
    EscalationRecords,
    OfferRecords,
    FeedbackRecords,
    ReportRecords,
    PortfolioRecords,
    OperatorRecords,
    ConsoleRecords,
):
    def __init__(
        self,
        database: Database,
        *,
        max_attempts: int = 3,
        lock_minutes: int = 30,
        max_lock_minutes: int = 24 * 60,
        attempt_secret: str = DEV_SECRET,
    ):
        self.db = database
        self.lock_rules = LockRules(max_attempts, lock_minutes, max_lock_minutes)
        # Keys the verification counters (bot.domain.verification.attempt_key).
        self.attempt_secret = attempt_secret
