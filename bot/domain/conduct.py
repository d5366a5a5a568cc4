"""The rules of conduct for debt collection, in one place.

Each rule names where it comes from; docs/conduct.md explains them for the
collections team. Actions, the reminder planner and the tests call these
functions instead of re-deciding the rules themselves.

Sources: US FDCPA / CFPB Regulation F (12 CFR 1006), China's NIFA internet-finance
collection convention (2018) and post-loan collection guidelines (2024), the national
standard on post-loan collection risk control for online consumer credit (2025), the
China Banking Association's guideline on consumer-loan collection (2026, trial), UK FCA
CONC 7 and FG21/1 (vulnerable customers). The contact rules differ by market
(`MARKETS`: US, UK, CN), chosen per loan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.reasons import NO_COLLECTION_REASONS

# ---------------------------------------------------------------- disclosure


def may_discuss_loan(verified: bool) -> bool:
    """Nothing about a loan, not even that a debt exists, before verification.

    Reg F 1006.6(d) (no third-party disclosure); NIFA (no contact with unrelated people).
    """
    return bool(verified)


# ---------------------------------------------------------------- collecting


@dataclass(frozen=True)
class CollectionBlock:
    reason: str  # dispute_open | fraud_claim_open | vulnerable | no_collection_reason


def collection_block(
    *, open_cases: tuple[str, ...] = (), vulnerable: bool = False, reason_code: str | None = None
) -> CollectionBlock | None:
    """Whether the assistant may ask for payment at all.

    - an open dispute stops collection until it is answered (FDCPA 809(b), Reg F 1006.34/38);
    - an open fraud claim likewise (the borrower may not owe anything);
    - a disclosed vulnerability stops collection until a person reviews it (FCA FG21/1, CONC 7.2);
    - a borrower who says the debt is disputed, paid or not theirs is not asked for payment
      in that conversation.
    """
    if "dispute" in open_cases:
        return CollectionBlock("dispute_open")
    if "fraud_claim" in open_cases:
        return CollectionBlock("fraud_claim_open")
    if vulnerable:
        return CollectionBlock("vulnerable")
    if reason_code in NO_COLLECTION_REASONS:
        return CollectionBlock("no_collection_reason")
    return None


def agreement_confirmed(answer: str | None, *, read_back_given: bool) -> bool:
    """Every agreement needs an explicit yes to a read-back of its exact terms: `answer`
    is what the message means at the read-back (bot.domain.steps), and only a plain yes
    counts; a hedged yes ("yes, but I'm worried …") does not."""
    return read_back_given and answer == "yes"


# ---------------------------------------------------------------- contact

CONTACT_WINDOW = (time(8, 0), time(21, 0))  # Reg F 1006.6(b)(1)(i); the widest window of any market
QUIET_DAYS_AFTER_CONVERSATION = 7
MAX_ATTEMPTS_PER_7_DAYS = 7  # Reg F 1006.14(b)(2) presumption


@dataclass(frozen=True)
class PolicyValue:
    """A limit and the rule it comes from (docs/conduct.md has the table)."""

    value: int
    source: str


@dataclass(frozen=True)
class MarketRules:
    """The contact rules of one market: whose conduct rules bind the lender for a loan
    (the loan's `market`). Every proactive contact (a reminder, a thank-you) counts."""

    market: str
    window: tuple[time, time]  # local time: contact from the first until before the second
    window_source: str
    max_per_7_days: PolicyValue  # sent to the borrower in any rolling 7 days
    max_per_day: PolicyValue | None = None  # sent to the borrower on their local day
    max_per_address_per_day: PolicyValue | None = None  # sent to one phone number or chat on its local day


_REG_F_WEEK = PolicyValue(
    MAX_ATTEMPTS_PER_7_DAYS, "Reg F 1006.14(b)(2): more than 7 attempts in 7 days is presumed harassment"
)
MARKETS: dict[str, MarketRules] = {
    "US": MarketRules(
        "US",
        (time(8, 0), time(21, 0)),
        "Reg F 1006.6(b)(1)(i): before 8am and after 9pm local time are inconvenient",
        _REG_F_WEEK,
    ),
    "UK": MarketRules(
        "UK",
        (time(8, 0), time(21, 0)),
        "CONC 7.9 (no contact at unreasonable times or frequency); 08:00-21:00 and 7 in 7 days as the house rule",
        PolicyValue(MAX_ATTEMPTS_PER_7_DAYS, "CONC 7.9 (no excessive contact); the house rule of Reg F 1006.14(b)(2)"),
    ),
    "CN": MarketRules(
        "CN",
        # 08:00-22:00; the lender's CONTACT_HOURS_END (21 by default) narrows it further.
        (time(8, 0), time(22, 0)),
        "China Banking Association, guideline on consumer-loan collection by financial institutions (2026, trial);"
        " NIFA convention on internet-finance collection (2018): no collection 22:00-08:00 without the borrower's consent",
        PolicyValue(
            MAX_ATTEMPTS_PER_7_DAYS, "no weekly figure in the Chinese texts: the house rule of Reg F 1006.14(b)(2)"
        ),
        max_per_day=PolicyValue(
            3,
            "national standard on post-loan collection risk control for online consumer credit (approved 2025):"
            " at most 3 effective interactive contacts, AI included, per debtor per day",
        ),
        max_per_address_per_day=PolicyValue(
            6,
            "China Banking Association, guideline on consumer-loan collection (2026, trial):"
            " at most 6 unanswered attempts per number per day",
        ),
    ),
}
DEFAULT_MARKET = "US"
# The zones of mainland China (IANA names, current and old).
CN_TIME_ZONES = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "Asia/Urumqi", "PRC"})


def market_for(currency: str, timezone: str) -> str:
    """The market a loan falls under when the lender's file does not say: CN for a
    yuan loan or a borrower in China's time zone (China's rules protect a borrower
    living there), UK for sterling, US for dollars; otherwise by the time zone
    (Europe/London: UK, America/*: US), else DEFAULT_MARKET."""
    code = (currency or "").strip().upper()
    zone = (timezone or "").strip()
    if code == "CNY" or zone in CN_TIME_ZONES:
        return "CN"
    if code == "GBP":
        return "UK"
    if code == "USD":
        return "US"
    if zone in ("Europe/London", "Europe/Belfast", "GB"):
        return "UK"
    if zone.startswith("America/") or zone.startswith("US/"):
        return "US"
    return DEFAULT_MARKET


def rules_for(market: str | None) -> MarketRules:
    return MARKETS.get((market or "").upper(), MARKETS[DEFAULT_MARKET])


def within_contact_hours(
    now: datetime,
    timezone: str,
    *,
    start_hour: int | None = None,
    end_hour: int | None = None,
    market: str | None = None,
) -> bool:
    """Inside the market's window (US and UK 08:00-21:00, CN 08:00-22:00) in the
    borrower's own time zone; no market: 08:00-21:00.

    A lender may narrow the window (CONTACT_HOURS_START/END), never widen it. The
    assistant records no consent to contact at night, so none is ever assumed.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    try:
        local = now.astimezone(ZoneInfo(timezone)).time()
    except Exception:
        return False  # unknown zone: do not risk an antisocial hour
    start, end = rules_for(market).window if market else CONTACT_WINDOW
    if start_hour is not None:
        start = max(start, time(start_hour))
    if end_hour is not None and end_hour < end.hour:
        end = time(end_hour)
    return start <= local < end


def within_weekly_limit(sent_in_last_7_days: int, limit: int | None = None, *, market: str | None = None) -> bool:
    """At most 7 contact attempts per borrower in any 7 days (a lender may set fewer)."""
    cap = rules_for(market).max_per_7_days.value
    cap = cap if limit is None else min(limit, cap)
    return sent_in_last_7_days < cap


def within_daily_limits(sent_to_borrower_today: int, sent_to_address_today: int, *, market: str | None) -> str | None:
    """The market's caps per day: None when one more contact is allowed, else the skip
    reason: `daily_limit` (per borrower) or `daily_limit_address` (per number or chat).
    Every proactive contact counts, answered or not (stricter than either text asks)."""
    rules = rules_for(market)
    if rules.max_per_day is not None and sent_to_borrower_today >= rules.max_per_day.value:
        return "daily_limit"
    if rules.max_per_address_per_day is not None and sent_to_address_today >= rules.max_per_address_per_day.value:
        return "daily_limit_address"
    return None


def spoke_recently(last_conversation: datetime | None, now: datetime) -> bool:
    """The borrower talked with us about the debt (passed verification) in the last
    7 days: no arrears reminder then (Reg F 1006.14(b)(2)(i)(B) presumes a call
    within 7 days of a conversation about the debt to be harassment)."""
    return last_conversation is not None and now - last_conversation < timedelta(days=QUIET_DAYS_AFTER_CONVERSATION)


def opted_out(channel: str, opted_out_channels: tuple[str, ...] | list[str]) -> bool:
    """A request to stop using a channel (or all channels) is honoured (Reg F 1006.14(h), 1006.6(e))."""
    return channel in opted_out_channels or "all" in opted_out_channels


# ---------------------------------------------------------------- vulnerability

# Crisis language must be recognised whatever the NLU model predicts, so a
# lexicon backs up the trained intent. Patterns are matched on lower-cased text
# with apostrophes normalised.
_CRISIS = [
    r"\b(kill|hurt|harm)(ing)? my ?self\b",
    r"\bend(ing)? (it|it all|my life|everything)\b",
    r"\bsuicid",
    r"\b(don'?t|do not|dont) (want|wanna) to (live|be alive|be here|go on|carry on|wake up)\b",
    r"\b(don'?t|do not) want to be (alive|here) any ?more\b",
    r"\bno (reason|point) (to|in) (live|living|go on|going on|carry on|carrying on)\b",
    r"\b(what'?s|whats) the point (in|of) (living|life|going on|being alive)\b",
    r"\bbetter off (dead|without me)\b",
    r"\b(want|wish) (to|i (was|were)) (die|dead)\b",
    r"\bwant to die\b",
    r"\btake my (own )?life\b",
    r"\bcan'?t go on( any ?more| like this)?\b",
    r"\b(might as well|rather|better) be dead\b",
    r"\bnot worth living\b",
    r"\b(don'?t|dont|do not|can'?t|cant) see (the|any) point (in|of) (being here|being alive|living|going on|carrying on)\b",
    r"\boverdose\b",
    r"\bjump (off|in front)\b",
]
_VULNERABLE = {
    "addiction": [
        r"\b(gambling|drug|alcohol|drinking) (problem|addiction|habit)\b",
        r"\baddict(ed|ion)?\b",
        r"\b(gamble|gambled|gambling) (it|everything|all)\b",
        r"\bin rehab\b",
        r"\b(gambled|betting|bookies|slot machines|online casino)\b",
        r"\bgambling\b",
        r"\b(drinking|gambling|betting|drug use|spending) (got|gets|is|was|has got|has been|went) (out of (control|hand)|bad)\b",
    ],
    "mental_health": [
        r"\bcan'?t cope\b",
        r"\b(not|n'?t) coping\b",
        r"\b(severe|really bad|crippling) (depression|anxiety)\b",
        r"\b(nervous|mental) breakdown\b",
        r"\b(i'?m having|i'?ve had|i have had|i had|having had) a (nervous |mental )?breakdown\b",
        r"\b(don'?t|dont|do not|can'?t|cant) see (the|any) point (of|in) (anything|everything|it all|life)\b",
        r"\bmental health (crisis|problems?|issues?)\b",
        r"\b(panic attacks?|sectioned)\b",
        r"\boverwhelmed\b",
        # Named conditions and how people say they are struggling (issue 17:
        # "off work with depression" was met with a request to rephrase).
        r"\bdepress(ed|ion)\b",
        r"\banxiety\b",
        r"\b(bipolar|ptsd|schizophreni\w*|antidepressants?)\b",
        r"\bstruggling (mentally|emotionally|with my (mental health|mind|head))\b",
        r"\bmental(ly)? (health|ill|illness|unwell)\b",
        r"\b(in a )?(really )?(bad|dark) (place|way) mentally\b",
        r"\boff (work )?(sick )?with (stress|depression|anxiety)\b",
        r"\b(struggling|can'?t) to cope\b",
        r"\b(been|keep|can'?t stop|started) crying\b",
        r"\bat the end of my tether\b",
        r"\bfalling apart\b",
        r"\bsuicidal\b",
        r"\bself[- ]harm",
        r"\bcrisis team\b",
        r"\b(psychiatric|psychiatrist|mental health team|community mental health)\b",
        r"\b(therapy|therapist|counsell?ing|counsell?or)\b",
        r"\bsigned off (work |sick )?(with|for) (stress|depression|anxiety|my mental health|mental health)\b",
        r"\b(stress|anxiety|depression|mental health) (has|have|is|are) (got|getting|been) (on top of|the better of)\b",
        r"\bnot in a (good|great) (place|way)\b",
        r"\b(grief|grieving)\b",
        r"\b(can'?t|cannot|couldn'?t) (sleep|eat|think straight|function)\b",
        # not "really low payments", "so down to the last penny"
        r"\b(feeling|feel|been|so|really|very) (low|down|hopeless|worthless)\b"
        r"(?! (payments?|instalments?|installments?|amounts?|interest|rates?|figures?|monthly|income|to (the|my|our) last))",
        r"\b(rock bottom|hopeless)\b",
        r"\b(can'?t|cannot) (handle|take) (it|this|any ?more)\b",
        r"\bfeel like giving up\b",
        # More of how people say it (issue 17, session 11)
        r"\b(in )?a (really |very |bit of a )?dark (place|time|way)\b",
        r"\bdark (thoughts|times)\b",
        r"\bbreaking point\b",
        r"\b(losing|lost|lose) my mind\b",
        r"\b(my )?head('s| is| has been|'s been|s been) (a mess|all over the place|not (right|in a good place)|gone)\b",
        r"\bnot in a (good|great|right) (place|way|state)( mentally)?\b",
        r"\bnot (doing )?(too |very |that )?(well|good|great|ok) mentally\b",
        r"\b(mentally|emotionally) (exhausted|drained|wrecked|broken|struggling|not (well|ok|okay|good))\b",
        r"\b(burn(ed|t)? ?out|burnout)\b",
        r"\b(ocd|eating disorder|anorexi\w*|bulimi\w*|psychosis|psychotic|hearing voices|personality disorder)\b",
        r"\b(severe|bad|terrible|crippling|constant) (stress|anxiety|panic)\b",
        r"\b(so|really|very|extremely|constantly) (anxious|stressed out|depressed)\b",
        r"\b(can'?t|cannot) (leave|get out of) (the house|bed)\b",
        r"\b(can'?t|cannot|cant) stop (shaking|crying|panicking)\b",
    ],
    # Life events and capability that make someone vulnerable (FCA FG21/1 drivers).
    "life_event": [
        r"\b(domestic (abuse|violence)|abusive (partner|relationship|husband|wife|ex)|coercive control)\b",
        r"\b(he|she|my (partner|ex|husband|wife)) (hits|hit|beats|beat|hurts|hurt|controls) me\b",
        r"\b(fled|fleeing|escaped) (from )?(my )?(partner|husband|wife|ex|home)\b",
        r"\b(women'?s )?refuge\b",
        r"\b(scared|afraid|terrified) of (my )?(him|her|partner|husband|wife|ex)\b",
        r"\b(violent|violence)\b",
        r"\b(homeless|sofa surfing|sleeping rough|evicted|eviction notice)\b",
        r"\b(full[- ]time )?carer (for|to)\b",
        r"\b(was|is|been|being|got) (abusive|violent|controlling)\b",
        r"\b(abused|abuse|abuser)\b",
        # (took / takes my money needs a person taking it: "the bill took all my money" is a bill)
        r"\b(controll?ed|controlling|control of) (all )?(of )?(my|our|the) (money|finances|bank|card|wages)\b",
        r"\b(i )?(don'?t|dont|do not|never) feel safe (at home|in my (own )?home|around (him|her)|with (him|her|my (partner|husband|wife|ex)))\b",
        r"\b(partner|husband|wife|ex|boyfriend|girlfriend|he|she)\b[^.]{0,15}\b(checks|reads|goes through|monitors|tracks) "
        r"(all )?(my|our) (phone|messages|texts|emails|bank|spending|location)\b",
        r"\b(financial|economic)(ly)? (abus\w*|control\w*)\b",
        # Economic abuse said plainly (FCA FG21/1; UK Domestic Abuse Act 2021 s.1(4)): money
        # kept or taken by a partner, access refused, debts forced on them
        r"\b(partner|husband|wife|ex|boyfriend|girlfriend|he|she)\b[^.]{0,25}\b(controls?|keeps?) "
        r"(all )?(of )?(my|our|the) (money|finances|wages|salary|pay|benefits|cards?|bank cards?)\b",
        r"\b(partner|husband|wife|ex|boyfriend|girlfriend|he|she)\b[^.]{0,25}\b(took|takes|taking|keeps taking) "
        r"(all )?(of )?(my|our) (money|finances|wages|salary|pay|benefits|cards?|bank cards?)\b",
        r"\b(won'?t|doesn'?t|does not|will not) (let|allow) me (to )?(have |get |use |see )?"
        r"(access|any money|my (own )?money|my (own )?(bank|account|card|wages|salary))\b",
        r"\bhand over (all )?(of )?my (wages|salary|money|pay|benefits)\b",
        r"\b(forc\w*|made|makes|pressur\w*) me (to )?(take out|borrow|get) (a |the |this |more |another )?"
        r"(loans?|credit|cards?|debts?)\b",
        r"\b(runs?|ran|running|racked|racks) up debts? in my name\b",
        r"\b(he|she|my (partner|ex|husband|wife|boyfriend|girlfriend)) (hits|hit|beats|beat|hurts|hurt|threatens|threatened) me\b",
        r"\bpregnan\w*\b[^.]{0,30}\b(sick|ill|unwell|alone|on my own|complications?|hospital)\b",
        r"\b(high[- ]risk|difficult) pregnancy\b",
        r"\b(lost|losing) (my|our|the) baby\b",
        r"\b(disabled|disability|disabilities|wheelchair|housebound|bed ?bound)\b",
        r"\b(refugee|asylum seeker|seeking asylum)\b",
        r"\b(just )?(got |come )?out of (prison|jail)\b",
        r"\b(care leaver|left care)\b",
        r"\bcaring for my\b",
        r"\b(miscarriage|stillborn|stillbirth)\b",
    ],
    "capability": [
        r"\b(learning (disability|difficulty|difficulties)|dyslexi\w*|autis\w*|adhd)\b",
        r"\b(can'?t|cannot) read (very )?well\b",
        r"\b(can'?t|cannot|don'?t|do not) (read|speak|write|understand) (english|much english|(english )?(very )?well)\b",
        r"\b(my )?english (is )?(not|isn'?t|no|not very|not so) (good|great|strong|very good)\b",
        r"\b(poor|bad|little|limited) english\b",
        r"\b(don'?t|do not|can'?t|cannot) understand (the|your|these|this|any of the) (letters?|forms?|paperwork|messages?)\b",
        r"\b(blind|deaf|partially sighted|hard of hearing|visually impaired)\b",
        r"\bmy (eyes|eyesight|sight) (are|is|'?s|has|have)? ?(bad|poor|going|gone|failing|not (good|great|what))\b",
        r"\b(poor|bad|failing) (eyesight|sight)\b",
        r"\b(brain injury|dementia)\b",
        r"\bmemory (problems?|loss|issues?)\b",
        r"\bmy memory('s| is| has)? (not|isn'?t|no|gone|going|getting worse|bad|terrible|failing)\b",
    ],
    "serious_illness": [
        r"\bcancer\b",
        r"\bchemo(therapy)?\b",
        r"\bterminal(ly ill)?\b",
        r"\b(stroke|heart attack|dementia|dialysis)\b",
        r"\b(hospice|palliative|life[- ]limiting|tumou?r|leukaemia|leukemia|motor neurone|multiple sclerosis|parkinson'?s)\b",
        r"\bintensive care\b",
    ],
    "bereavement": [
        r"\b(passed away|funeral|bereave(d|ment))\b",
        r"\b(wife|husband|partner|mum|mom|dad|father|mother|son|daughter|child|baby|brother|sister|nan|gran|grandma|grandad) (has |had |just )?died\b",
        r"\blost my (wife|husband|partner|mum|mom|dad|father|mother|son|daughter|child|baby|brother|sister)\b",
        r"\btook (his|her|their) own life\b",
    ],
}
# Simplified Chinese. No word boundaries in Chinese, so each pattern is a
# whole phrase; a family word is required before 死/走了 (bereavement) so that
# "死了算了" ("I'd rather be dead") stays a crisis.
_FAMILY_ZH = r"(爸爸?|妈妈?|父亲|母亲|老爸|老妈|丈夫|老公|妻子|老婆|爱人|儿子|女儿|孩子|宝宝|哥哥?|姐姐?|弟弟?|妹妹?|爷爷|奶奶|外公|外婆|姥姥|姥爷)"
_CRISIS_ZH = [
    r"不想活",
    r"活不下去",
    r"不想再活",
    r"活着还?(没|没有|有什么)(意思|意义|盼头)",
    r"没有活下去的(理由|意义|勇气)",
    r"自杀",
    r"轻生",
    r"寻死",
    r"想死",
    r"死了算了",
    r"不如死了",
    r"(还是|倒不如|干脆)死了",
    r"一了百了",
    r"结束(自己的|我的)?生命",
    r"了结(自己|生命)",
    r"离开这个世界",
    r"跳楼",
    r"跳河",
    r"跳江",
    r"割腕",
    r"上吊",
    r"(吃|吞|买|囤|攒)了?(很多|好多|一瓶|整瓶)?安眠药",
    r"(喝|服|买)了?(农药|毒药)",
    r"服毒",
    # Self-harm is a crisis in English too; and death offered as the way out of the debt.
    r"自残",
    r"伤害自己",
    r"(划|割|烫)伤?了?自己",
    r"死了就不用还",
    r"人死债消",
    r"大不了一死",
    r"死路一条",
    r"(只能|想|我就|不如)去死",
    r"逼死",
    r"死给你们看",
    r"这条命不要了",
    r"遗书",
    r"交代(好)?后事",
    r"告别这个世界",
    r"(不想|再也不)(再)?醒(来|过来)?",
    r"结束这一切",
    r"活着就是(受罪|折磨|负担)",
    r"我死了.{0,6}(解脱|轻松|更好)",
    r"没有我.{0,6}更好",
    r"烧炭",
    r"卧轨",
    r"吞药",
    # In danger from someone else: the crisis reply gives the emergency number first.
    r"要杀了我",
    r"拿着刀",
    r"救命",
]
_VULNERABLE_ZH = {
    "addiction": [
        r"赌博",
        r"赌瘾",
        r"网赌",
        r"赌输",
        r"赌球",
        r"赌钱",
        r"控制不住.{0,4}赌",
        r"(吸|戒)毒",
        r"毒瘾",
        r"酗酒",
        r"酒瘾",
        r"戒酒",
        r"(上|成)瘾",
    ],
    "mental_health": [
        r"抑郁",
        r"焦虑症",
        r"(精神|情绪)(崩溃|疾病|问题)",
        r"心理(疾病|问题)",
        r"崩溃了",
        r"撑不住",
        r"扛不住",
        r"撑不下去",
        r"坚持不下去",
        r"受不了了",
        r"惊恐发作",
        r"焦虑",
        r"(躁郁|双相)",
        r"精神(状态|压力)(很|非常|特别)?(差|不好|大)",
        r"心理压力(很|非常|特别|太)大",
        r"(一直|天天|每天)都?在?(哭|失眠)",
        r"以泪洗面",
        r"强迫症",
        r"创伤后应激",
        r"精神分裂",
        r"社交恐惧",
        r"惊恐障碍",
        r"快(要)?疯了",
        r"厌食症",
        r"进食障碍",
        r"走投无路",
        r"(是|成了).{0,4}(累赘|拖累)",
        r"睡不着",
        r"心理(医生|咨询|治疗)",
        r"精神科",
    ],
    "life_event": [
        r"家暴",
        r"家庭暴力",
        r"(被|遭).{0,3}(打|虐待)",
        r"无家可归",
        r"流落街头",
        r"被.{0,4}赶出",
        r"没地方住",
        r"睡在车里",
        r"刚出狱",
        r"低保",
        r"(老公|丈夫|男朋友|前夫|前男友).{0,4}打我",
        # 经济控制: money kept or taken by a partner, loans forced on them
        r"(老公|丈夫|男朋友|前夫|前男友|老婆|妻子|女朋友|前妻|伴侣).{0,6}(控制|管着|拿走|扣着|收走|抢走|霸占)"
        r".{0,4}(钱|工资|银行卡|收入|财产)",
        r"(老公|丈夫|男朋友|前夫|前男友|老婆|妻子|女朋友|前妻|伴侣).{0,3}把我的?.{0,2}(钱|工资|银行卡|收入)"
        r".{0,3}(拿走|扣着|收走|抢走|控制|花光)",
        r"(逼|强迫|胁迫)我.{0,3}(借|贷|办.{0,2}卡|网贷)",
        r"不敢回家",
        r"庇护所",
        r"(孤寡|独居)老人",
        r"照顾(瘫痪|生病|住院)",
        r"全天照顾",
        r"流产",
    ],
    "capability": [
        r"智力障碍",
        r"自闭症",
        r"认知(障碍|有问题)",
        r"看不懂字",
        r"不识(几个)?字",
        r"不太认识字",
        r"文化程度(很|比较)?低",
        r"阅读障碍",
        r"老年痴呆",
        r"不会用智能手机",
    ],
    "serious_illness": [
        r"癌",
        r"肿瘤",
        r"化疗",
        r"放疗",
        r"晚期",
        r"绝症",
        r"白血病",
        r"中风",
        r"脑梗",
        r"心(脏病|梗)",
        r"透析",
        r"尿毒症",
        r"重症监护",
        r"(?<![A-Za-z])ICU(?![A-Za-z])",  # not inside "difficulty"
        r"残疾",
        r"瘫痪",
        r"坐轮椅",
        r"植物人",
        r"脑瘫",
        r"渐冻症",
        r"癫痫",
        r"红斑狼疮",
        r"肾衰竭",
        r"帕金森",
        r"重病",
        r"生活不能自理",
    ],
    "bereavement": [r"去世", r"过世", r"离世", r"病逝", r"葬礼", r"丧事", r"办后事", _FAMILY_ZH + r".{0,3}(死了|走了)"],
}
_CRISIS_RE = re.compile("|".join(_CRISIS + _CRISIS_ZH))
_VULNERABLE_RE = {k: re.compile("|".join(v + _VULNERABLE_ZH[k]), re.IGNORECASE) for k, v in _VULNERABLE.items()}


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "")[:2000].lower().replace("’", "'"))


def detect_vulnerability(text: str) -> str | None:
    """ "crisis", "addiction", "mental_health", "serious_illness", "bereavement" or None."""
    normalised = _normalise(text)
    if _CRISIS_RE.search(normalised):
        return "crisis"
    for category, pattern in _VULNERABLE_RE.items():
        if pattern.search(normalised):
            return category
    return None


# ---------------------------------------------------------------- wording

# Words that threaten, mislead or pressure (FDCPA 806/807, Reg F 1006.14/18,
# CONC 7.9, NIFA). No response in the domain may contain them; a test scans
# every response.
BANNED_PHRASES = (
    "arrest",
    "jail",
    "prison",
    "police",
    "criminal",
    "sue you",
    "lawsuit",
    "court action",
    "legal action",
    "bailiff",
    "seize",
    "repossess",
    "garnish",
    "your employer",
    "your family will",
    "tell your",
    "final warning",
    "last chance",
    "immediately or",
    "must pay today",
    "or else",
    "borrow from",
    "take out a loan",
    "payday loan",
    "sell your",
    "credit card to pay",
    "deadbeat",
    "irresponsible",
    "shame",
    "blacklist",
    # Chinese (NIFA: no threats, insults, misleading claims or contact with third parties)
    "坐牢",
    "拘留",
    "逮捕",
    "报警",
    "警察",
    "刑事",
    "起诉你",
    "起诉您",
    "律师函",
    "法律行动",
    "强制执行",
    "上门催收",
    "查封",
    "扣押",
    "曝光",
    "通讯录",
    "家人",
    "亲友",
    "你的单位",
    "您的单位",
    "最后通牒",
    "最后一次机会",
    "后果自负",
    "以贷养贷",
    "借钱还",
    "信用卡还",
    "变卖",
    "老赖",
    "丢人",
    "黑名单",
    # Chinese: no impersonating courts, police, lawyers or the government, no threats
    # (NIFA 2018; the CBA guideline on consumer-loan collection, 2026)
    "法院",
    "法官",
    "法庭",
    "公安",
    "派出所",
    "检察院",
    "律师",
    "传票",
    "立案",
    "诉讼",
    "司法",
    "政府部门",
    "失信被执行人",
    "判刑",
    "吃官司",
    "通缉",
    "威胁",
    "上门",
    "你的家里",
    "您的家里",
    "你的同事",
    "您的同事",
    "不还就",
    "否则后果",
)


def banned_phrases_in(text: str) -> list[str]:
    lowered = (text or "").lower()
    return [phrase for phrase in BANNED_PHRASES if phrase in lowered]
