"""The words the step readers look for: who takes over at any step, what a
consequential request looks like, and the patterns for yes, no, worry, a change, a
choice, an amount, hardship, a person, a reason …"""

from __future__ import annotations

import re

# Subjects that always take over, whatever the step: the borrower's safety, a
# person, someone else on the phone, a payment already made, questions.
ALWAYS_TOPIC = frozenset(
    {
        "crisis",
        "disclose_vulnerability",
        "request_human",
        "third_party",
        "claim_already_paid",
        "ask_balance",
        "insult",
        "request_hardship",
        "ask_settlement",
        "choose_language",
    }
)
QUESTIONS = frozenset(
    {
        "ask_credit_impact",
        "ask_fees_interest",
        "ask_how_to_pay",
        "ask_consequences",
        "ask_why_contacted",
        "ask_data_use",
        "bot_challenge",
    }
)
# Requests that change what the lender does (a hold, a fraud case, no more
# contact, an arrangement cancelled): carried out only on an unambiguous request.
CONSEQUENTIAL = {
    "dispute_debt": re.compile(
        r"\bdisput|\b(?:don'?t|do not|dont)(?: even)? owe|\bnot my (?:debt|loan)|\bnever (?:took|borrowed|had)|"
        r"\b(?:not|isn'?t|isnt|is not|ain'?t|aint) (?:mine|me)\b|\bi owe nothing|\bowe (?:you )?nothing|"
        r"\b(?:don'?t|dont|do not) recogni[sz]e|\bnot (?:even )?my (?:loan|debt|account)|\bisn'?t (?:even )?(?:my|mine)\b|"
        r"\bnever (?:signed|had a loan|had any loan)|\bnothing to do with me\b|"
        r"\b(?:don'?t|dont|do not) (?:agree|accept|think|believe) (?:that )?i (?:even )?owe\b|\bi (?:shouldn'?t|should not) owe\b|"
        r"\bcontest|\bchallenge (?:this|the|that) (?:debt|balance|amount)|\bnever agreed to (?:this|that|the|a|any) (?:loan|debt)|"
        r"不欠|不是我的|有异议|异议|不认",
        re.I,
    ),
    "not_my_loan": re.compile(
        r"\bnot my (?:loan|account|debt)|\b(?:isn'?t|isnt|is not|ain'?t|aint) mine\b|"
        r"\bnever (?:took|borrowed|applied|had)|\bfraud|\bstolen|\bidentity|"
        r"\bsomeone (?:else|used)|\bnot me\b|冒用|盗用|不是我(?:借|的)|没借过",
        re.I,
    ),
    "stop_contact": re.compile(
        r"\bstop (?:contact|messag|text|call|email|writ)|\bdon'?t (?:contact|message|text|call)|"
        r"\bno more (?:messages|texts|calls|contact)|\bunsubscribe|\bopt ?out|\bleave me alone|"
        r"不要(?:再)?(?:联系|打|发)|别(?:再)?(?:联系|打|发)|退订",
        re.I,
    ),
    "cancel_plan": re.compile(r"\bcancel|\bend (?:my|the) (?:plan|arrangement)|\bstop (?:my|the) plan|取消", re.I),
}
CLEAR_CONFIDENCE = 0.85  # at or above, the classifier alone is clear enough for a consequential request

# Phrases that say yes with a negative word in them.
_NEGATIVE_YES = re.compile(
    r"\b(?:why not|no problem|no probs|no worries|not a problem|no issues?|can'?t complain)\b|没问题|没错|没毛病|不错|没意见",
    re.I,
)
_NEGATION = re.compile(
    r"\b(?:no|not|nope|nah|never|don'?t|dont|can'?t|cant|cannot|won'?t|isn'?t|wasn'?t)\b|n't|不(?!好意思|过)|没(?!毛病|问题)|别(?!再?问了?)",
    re.I,
)
_YES = re.compile(
    r"^\W*(?:yes+|yeah|yea|yeh|yep|yup|ya|yh|ye|y|aye|yas+|ok+|okay|okey|okie|k|kk|sure|sure thing|fine|alright|"
    r"all right|right|correct|certainly|please|pls|deffo|defo|roger|all good|good to go|happy to|book it|sort it|"
    r"a?ight|oki+|okii|alrighty|righto|right o|sounds like a plan|yessir|"
    r"lock it in|tak|haan|ji|da|"
    r"confirm(?:ed)?|agree[ds]?|deal|done|perfect|great|good|cool|lovely|brilliant|grand|absolutely|definitely|"
    r"of course|go (?:for it|ahead|on)|do it|that'?s (?:right|fine|good|great|perfect|correct|ok|okay)|"
    r"that'?s (?:spot on|bang on|all good|all correct|lovely|brilliant|ideal|exactly right|sound)|that works|(?:that )?sounds (?:good|great|fine|ok|okay|right|about right)|works for me|set it up|let'?s do (?:it|that)|"
    r"why not|please do|yes please|happy with that|i agree|i accept|accept|spot on|bang on|exactly|that'?s it|that'?s the one|"
    r"that'?s grand|grand|i confirm|course|fair enough|that is (?:fine|right|correct|good)|sounds right|"
    r"looks (?:good|right|fine|correct)|that'?s what i want|sign me up|proceed|please proceed|"
    r"i'?m happy|im happy|i am happy|nice one|that(?:'?ll| will) do|will do|that(?:'?ll| will| would|'?d) work|"
    r"对|好|好的|可以|行|没问题|确认|同意|是的|是)"
    r"(?:\W|$)",
    re.I,
)
# A Chinese yes opens the message, whatever particles follow (对的, 好滴, 嗯嗯, 可以的, 行吧):
# Chinese has no spaces, so the English pattern's word end does not apply. 好多/好贵
# ("so much", "so dear") and 对不/是不 (negated or asked) are not yeses.
_YES_ZH = re.compile(
    r"^\W*(?:ok|okay|系(?:呀|啊|嘅|喇|啦|㗎)|好(?![多贵烦难久少像几大累吗么])|嗯|恩|对(?![不吗么])|行(?![不吗么])|是(?![不吗么])(?![^，。？?]{0,12}还是)|可以(?![吗么])|没错|没问题|没毛病|"
    r"确认|确定|同意|正确|就这样|就这么办|就按这个|妥|办吧|成交|要得|得嘞|中(?=\W*$)|中嘞|对头|hd(?![a-z])|我(?:同意|确认|确定)(?![^，。]{0,3}(?:不|吗|么)))",
    re.I,
)
# "that's it yes", "all looks fine to me, yes": a yes at the end.
_THUMBS = re.compile(r"^\s*(?:👍|👌|✅|🙏|👍🏻|👍🏼|👍🏽|👍🏾|👍🏿)+\s*$")
_YES_AT_END = re.compile(r"(?:^|\W)(?:yes+|yeah|yep|yup|correct|ok|okay|confirmed?)\W*$", re.I)
# "gotta go, later", "have to go now": leaving the chat, not a later start.
_LEAVING = re.compile(r"\b(?:gotta|got to|have to|need to|i must) (?:go|run|dash)\b", re.I)
# A yes spoken of, not given: "before I say yes", "if I agree", "I can't say yes yet".
_YES_MENTIONED = re.compile(
    r"\b(?:say|saying|said|says)\s+(?:yes|ok|okay)\b|\b(?:before|if|once|until|till) (?:i|we) (?:agree|say|confirm|commit)\b",
    re.I,
)
# A whole refusal in Chinese, wherever it stands: 不不不，我不想分期了, 撤回吧 我不办了, 别给我办这个.
_REFUSES_ZH_WORDS = (
    r"不想分期了|不分期了|分期我不(?:弄|办|要|搞)了|不(?:想)?(?:弄|办|搞)了|我不办|反悔了?|撤回|取消(?:吧|掉)|"
    r"别(?:给我)?办|不需要确认|(?:方案|这个)我不要|唔得|唔要"  # 唔得 / 唔要: Cantonese, not possible / don't want
)
_REFUSES_ZH = re.compile(_REFUSES_ZH_WORDS)
# "that's not what I picked", 我刚刚点的不是6期: the read-back is not what they chose (whatever
# length or figure they name in saying so).
_NOT_WHAT_I_CHOSE = re.compile(
    r"\bnot what (?:i|we) (?:picked|chose|chosen|selected|asked for|said|agreed|went for)\b|"
    r"\b(?:don'?t|do not) think (?:that'?s|thats|that is) what (?:i|we) (?:picked|chose|said|asked for|wanted|agreed)\b|"
    r"(?:点|选|挑|定)的不是|不是我(?:点|选|要|挑|定)的|是不是(?:弄|搞)错|(?:弄|搞)错了|跟我选的对不上",
    re.I,
)
_CJK = re.compile(r"[\u4e00-\u9fff]")  # a Chinese character
# "give me a sec", "someone at the door", "hang on a minute": a pause in the conversation.
_A_MOMENT_WORDS = (
    r"\bgive me (?:a|one) (?:sec|second|min|minute|mo|moment)\b|\bsomeone(?:'?s| is)? at the door\b|"
    r"\bhang on a (?:sec|second|min|minute)\b|\bbrb\b"
)
_A_MOMENT = re.compile(_A_MOMENT_WORDS, re.I)
# "ok but ...", "行，但是…": a yes that goes on with a but.
_BUT_AFTER_YES = re.compile(
    r"\b(?:but|though|although|tho)\b\W*\w|\w\W*\b(?:though|tho)\W*$|(?:但是|不过|可是)(?!\W*(?:没问题|没事|没关系|问题不大))\W*[\w\u4e00-\u9fff]",
    re.I,
)
# "I can't pay now", "i wont be able to pay it today": a refusal just before the words of paying now.
_REFUSED_BEFORE = re.compile(
    r"\b(?:can'?t|cannot|cant|won'?t|wont|unable to|not able to|couldn'?t|don'?t|dont|not|never|neither|nor)\b[^.?!,]{0,15}$|不(?:能|会|可能)?$",
    re.I,
)
# A message put as a question: 总共就是900对吧？, 确认了之后还能改吗.
_ENDS_AS_QUESTION = re.compile(r"[?？]\s*$|(?:吗|么|嘛|没|(?<!不)对吧|是吧|不是吗)\s*[?？]?\s*$")
# A no in the middle of the message: "I've changed my mind, I don't want it".
_NO_ANYWHERE = re.compile(
    r"\bchanged my mind\b|\b(?:don'?t|dont|do not) want (?:it|this|that|the plan|to do (?:it|this))\b|"
    r"\bforget it\b|\bscrap (?:it|that)\b|不想要了|不要了|"
    rf"{_REFUSES_ZH_WORDS}",
    re.I,
)
_NO = re.compile(
    r"^\W*(?:no|nope|nah|na|not really|no thanks|no thank you|i don'?t (?:want|agree)|i do not (?:want|agree)|"
    r"not for me|i'?d rather not|不|不要|不行|不用|不同意|算了)(?:\W|$)",
    re.I,
)
_WORRY = re.compile(
    r"(?<!no )\bworr|\bscared|\bafraid|\bterrified|\bfrightened|\bpetrified|\bdread|\bfall(?:ing|en)? behind|"
    r"\bhope (?:the|my|our) \w+ (?:doesn'?t|don'?t|won'?t|isn'?t|does not|will not)\b|\bor (?:i'?m|im|i am|we'?re) (?:stuck|screwed|done for|in trouble)\b|"
    r"心里(?:有点|有些)?没底|心里打鼓|\bi guess\b|\ba lot (?:of money )?(?:for me|for us|each month|every month|a month)\b|"
    r"\bnot sure how (?:i|we)(?:'ll| will| would| can| could)? (?:find|manage|afford|pay|cope|do)\b|"
    r"\bwhat happens if (?:something|anything|i|it|things?) (?:goes|go|went) wrong|\b(?:please )?don'?t let (?:it|this) affect\b|\bnervous|\bconcern|\bnot (?:sure|certain) (?:i|if|that|whether)|\bmight (?:not|struggle|miss)|"
    r"\bmay (?:not|struggle|miss)|\bcan'?t (?:promise|guarantee)|\bstruggl|\bhope (?:i|so|it)|\bif i can\b|"
    r"\bfall behind|\bkeep up\b|\bmanage (?:it|that)\b\W*\?|\btight\b|\bbut\b.*\b(?:miss|hard|difficult|afford|manage)|"
    r"\b(?:a|bit of a|real|big) stretch\b|\bfingers crossed|\btouch wood|\bhopefully\b|\b(?:maybe|might|may|perhaps) (?:i )?(?:can'?t|cannot|cant|won'?t|wont|will not|not be able)\b|\bhope (?:nothing|all|everything|things|that|this|we)\b|\b(?:can|could|should|will|'ll) probably\b|\bprobably (?:can|could|manage|afford|ok|okay|fine|be)\b|\bstick (?:to|with) it|\bpray\b|\bbarely\b|"
    r"\bwe'?ll see\b|\bgoing to be (?:hard|tough|difficult)|担心|怕|万一|\blet (?:you|u|anyone|everyone) down\b|"
    r"\bnot sure what (?:next month|next week|the future|tomorrow|the next few months) (?:looks like|holds|will (?:bring|look like)|brings)\b|"
    r"(?:但是|不过|可是|\bbut)\W*$|还不上|不稳定|没把握|够呛|尽量|压力(?:很|太|有点)?大|"
    r"\btry (?:my (?:best|hardest))|\bdo my (?:best|hardest)|\bas long as\b|\bunless\b|\bgive it a (?:go|try|shot)|"
    r"\bsee how it goes|\bi(?:'?ll| will| can) try\b|\bif all goes (?:well|to plan)|^\W*(?:(?:um+|erm+|hm+|uh+|well|yeah|yes|ok|okay|so)\W+)*(?:i think so|i guess|i suppose|probably)\b|"
    r"\bnot (?:really |too |so |that |entirely |totally |very |fully )?(?:sure|certain|confident)\W*$|\bnot (?:\w+ )?confident\b|"
    r"\b(?:a lot|a bit much|quite a bit|too much|steep|pricey|expensive|hard|tough|difficult)(?: for me| for us)?\W*(?:but|tho|though)\b|\bsuppose so|\bi think i can\b|\bshould be (?:ok|okay|fine|able)\b|\breckon\b|"
    r"\bmight (?:need|have) to change|\balthough\b|"
    r"应该可以吧|尽量|试试|希望吧|希望(?:到时候|我)?能|心慌|凑(?:得|不)出|不知道能不能|不一定(?:能|还得)|不敢保证|保证不了|心里没底|"
    r"担心|害怕|怕|不确定|没把握|压力",
    re.I,
)
# A question asked outright (not "can you …?", which is often a request).
_ASKS_OUTRIGHT = re.compile(r"^\W*(?:does|do|is|are|what|whats|how|why|when|where)\b", re.I)
_STARTS_AS_QUESTION = re.compile(
    r"^\W*(?:what|whats|how|why|when|where|who|which|will|would|does|do|is|are|am|if|can|could)\b", re.I
)
# More hedges (session 11), taken as a worry only when the message is not a question
# about the terms ("what if my hours get cut?") nor a change with its new terms.
_WORRY_MORE = re.compile(
    r"\banxious|\banxiety|\bstress|\bpanick?|\bkeep(?:ing)? (?:it |them |this |that )?up\b|"
    r"\bnot (?:a )?(?:100|hundred|one hundred) ?(?:%|percent|per cent)?|\bif nothing (?:else )?(?:goes|comes up|happens)|"
    r"\bif (?:my|the) (?:hours|job|work|money|pay|wages?)|\bdepends on\b|\bnot (?:\w+ )?(?:sure|confident|certain) (?:about (?:the money|money|paying|affording|managing|it|this|that)\b|of (?:paying|affording|managing|it)|i|if|that|whether)\b|"
    r"\bmight be (?:too|a (?:bit|lot|struggle|stretch)|hard|difficult|tough)|\b(?:yes|yeah|ok|okay|sure|fine)\b[^.?!]{0,10}\bbut what if\b|"
    r"\bbut\b.*\b(?:too much|a lot|scared|nervous|worried)\b",
    re.I,
)
# Rather not say, or not now, in Chinese (the English is in _NOT_NOW): 现在不方便说,
# 不想谈这个, 不便透露, 不方便接电话; not 不想说谎. Also a deferral in bot/services/deferral.py.
RATHER_NOT_SAY_ZH = r"不(?:太)?(?:方便|想)(?:说(?!谎)|讲|谈|聊|透露)|不便(?:说|讲|透露)|不方便(?:接电话|说话)"
_NOT_NOW = re.compile(
    r"想一?想|考虑一?下|(?:跟|和|问问).{0,6}商量|商量(?:一?下)?再|先不选|再说吧|等会儿?|一会儿再|(?:在|正在)?开车呢?|在忙|忙着呢|(?:在|正在)开会|(?:在)?上班呢|"
    r"(?:以后|之后|过几天|过两天|回头|明天|晚点|改天|等等)再(?:说|定|回复|决定|联系|选|确认|看|办|弄|处理)|"
    r"\bthink (?:about|it over|on it)|\blet me think|\bneed (?:to|some) (?:time|think)|\bsleep on it|(?<!long to )(?<!while to )\bget back to (?:you|u)\b|"
    rf"{_A_MOMENT_WORDS}|\banother (?:day|time)\b|"
    r"\b(?:message|text|write|get back|reply|call|come back|talk)(?: back)?(?: to you| to u| you| u| me| us)? (?:tonight|tomorrow|later)\b|\bmaybe later\b|\bnot tonight\b|\bdeal with (?:it|this) (?:in the morning|tomorrow|later)\b|\breturn to (?:this|it)\b|\bnot ready to (?:talk|discuss|say|go into|get into)\b|(?<!不用)(?<!别)(?<!不想)再(?:聊|谈)|稍后|晚些时候|\bphone(?:'?s| is)? (?:about to die|dying|on \d+ ?%)|\bgive me (?:an? |one )?(?:hour|min(?:ute)?|sec(?:ond)?|mo)\b|\bon the (?:bus|train|tube)\b|\bbusy (?:rn|atm|at the moment)\b|^\W*busy\b|"
    r"\b(?:talk|speak|check|chat) (?:to|with) (?:my|the) |\bask my |\bnot (?:right )?now\b|\bnot today\b|"
    r"\b(?:message|text|talk|speak|reply|decide|do (?:it|this)|sort (?:it|this)) (?:to you |you |u )?later\b|"
    r"\bbefore (?:i|we) (?:say yes|agree|commit|sign|go ahead|say ok)\b|"
    r"\b(?:look at|check|go over|go through|look over) (?:my|our) (?:budget|finances|money|bank|outgoings|bills)\b|"
    r"\bcome back|\bafter (?:pay ?day|i get paid)|\bdecide\b|\bhold off|\bwait (?:till|until|a)|\bgive me (?:a|some)\b(?![^.?!]*\b(?:breathing|break|breather|months?|holiday|pause|smaller|lower|options?|instal|install|plans?|payment|lump))|"
    r"\bconfirm (?:it |this )?(?:tomorrow|later)|\b(?:i'?m|im|i am) (?:at work|busy)\b|\b(?:i'?m|im|i am) driving\b(?!\s+(?:\d|for|uber|a\b|an\b|taxis?|deliver|lorr|trucks?|cabs?|around|all))|^\W*(?:later|laters|l8r)\W*(?:pls|please|plz|thanks|ta)?\W*$|\bat work (?:right )?now\b|^\W*driving\b|\bcan'?t talk|\bbusy (?:right )?now|"
    r"\bnot a good time|\brevert(?: back)?\b|\bpick (?:this|it|that) up (?:again )?(?:tomorrow|later|another|next|on|after)\b|"
    r"\btry (?:me|again) (?:tomorrow|later|next|on|on monday|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b|^\W*(?:i'?m |im )?in a (?:meeting|lecture|class|seminar)\b|"
    r"\b(?:don'?t|dont|do not) (?:want|wanna) to deal with (?:this|it|that)\b|"
    r"\b(?:talk|chat|speak) (?:about (?:it|this|that) )?(?:next week|tomorrow|on (?:mon|tues|wednes|thurs|fri|satur|sun)day)\b|\b(?:don'?t|dont) (?:really )?want to (?:get into|talk about|go into|discuss) (?:it|this|that)|"
    r"\b(?:rather|prefer)(?: not| to not) (?:to )?(?:say|discuss|talk about|go into|get into|share)\b|\b(?:don'?t|dont|do not) (?:want|wish) to (?:say|share)\b|"
    r"(?<!予以)(?<!慎重)(?<!认真)(?<!仔细)(?<!不)考虑(?!好了|过了|清楚)|想想|想一想|商量|以后再|晚点|等(?:我|一下|等)|回头|"
    r"改天(?!数)|今天不想(?:弄|说|谈|聊)|没空|再(?:决定|定夺)|"
    rf"{RATHER_NOT_SAY_ZH}|"
    r"\b(?:talk|chat|speak|discuss|deal with|go (?:over|through)|do|sort|finish)\b[^.?!]{0,15}\blater\b(?! (?:in|on|that|this|next) )",
    re.I,
)
_CORRECTION = re.compile(
    r"\b(?:not|isn'?t|ain'?t|aint|isnt|aren'?t|arent|doesn'?t look|don'?t look) (?:right|correct)\b|\bwrong\b|\bincorrect\b|\bmistake\b|"
    r"\bthat(?:'?s|s| is)? (?:not|isn'?t|isnt) it\b|\bdoesn'?t add up|\bsomething(?:'?s|s| is)? (?:off|not right|wrong)\b|\b(?:don'?t|do not) think (?:that'?s|that is|this is|it'?s|it is) (?:right|correct)\b|\bnot quite\b|\bnot what (?:we|i) (?:agreed|said|asked|picked|chose|chosen|selected|wanted|meant|went for)|不对|错了|有误|不正确|不是我(?:选|要|挑|定)的|我(?:没|没有)选(?:这个)?|(?:选|要)的不是这个|不是这个|"
    r"(?:跟|和|与)(?:我|刚才)?(?:选|说|要|定)的不一样|不一样|不是这样|不是这么回事|弄错|搞错|对不上|不太对|"
    r"(?:这个|这|好像|感觉|方案|计划|金额|日期)有(?:点|些)?问题(?![吗么嘛])",
    re.I,
)
_CHANGE = re.compile(
    r"\bchang|\bdifferent|\banother\b|\bmove\b|\binstead\b|\bswitch|\brather\b|\bcan (?:i|we) (?:make|do|have|start|pay)|"
    r"\bcould (?:i|we) (?:make|do|have|start|pay)|\bprefer|\blater\b|\bearlier\b|\blonger\b|\bshorter\b|\bless\b|"
    r"\blower\b|\bsmaller\b|\bmore than (?:that|this)\b|\bpush|\bput (?:it |that |the \w+ )?back|\bdelay|\bbring (?:it )?forward|"
    r"\btoo (?:many|long|soon|early)\b|\bfewer\b|\bbut\b|\bactually\b|\bon second thoughts?\b|\b(?:what|how) about\b|"
    r"\bmake it\b|\bwould be better\b|\bsuits? me better\b|"
    r"\b(?:can|could) (?:it|that|this|they|the (?:\w+ )?(?:payments?|instalments?|date|amount|first one)|payments?|instalments?) (?:be|come out|go out|start)\b|"
    r"\b(?:doesn'?t|does not|dont|don'?t|won'?t|wont|isn'?t|not) (?:really )?(?:work|suit|good|ok|okay|possible) for me\b|\b(?:bit|too|very) (?:high|steep|much)\b|改|换|调整|推迟|延后|提前|还是想|要不|(?:但是|不过|可是)(?!\W*(?:没问题|没事|没关系|问题不大))|晚几天|早几天|能不能|可不可以|"
    r"[晚推迟](?:一|两|几|1|2)?(?:个)?(?:星期|周|礼拜|天)|不(?:太|大)?合适|不方便|[推挪改移]到|往后|往前|挪一挪|太早|太晚|早了|晚了|"
    r"太高|太贵|高了|少一?点|低一?点|便宜一?点|\b\d{1,2}\s+(?:not|instead of|rather than)\s+\d{1,2}\b",
    re.I,
)
_DATE_WORDS = re.compile(
    r"\bdate\b|\bday\b|\bstart|\bfirst (?:payment|one)|\bpay ?day|\bweek|\b(?:mon|tue|wed|thu|fri|sat|sun)\w*days?\b|"
    r"\b\d{1,2}(?:st|nd|rd|th)\b|\bend of (?:the )?month|\bnext month|\blater\b|\bearlier\b|\btoo (?:soon|early)\b|"
    r"\bpush|\bdelay|\bput (?:it |that |the \w+ )?back|\bbring (?:it )?forward|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|日期|号|日子|哪天|推迟|延后|提前|首期|第一期|开始|"
    r"晚几天|早几天|发工资|月初|月中|月底|下个月|下周|周[一二三四五六日天]|星期",
    re.I,
)
# 时间再长一点, 期限长一些: a longer plan asked for without a length (the terms, not a break).
_LONGER_TERM_ZH_WORDS = r"(?:时间|期限|期数|还款期)(?:能不能|可不可以|可以|能)?(?:再|更|拉)?(?:长|久|多)|分(?:得)?(?:久|长)一?点|多分几(?:期|个月)"
_MONTHS_WORDS = re.compile(
    r"\b\d{1,2} ?(?:months?|mths?|mos?)\b|\b(?:twelve|six|three|nine|twenty[- ]?four|eighteen) months?\b|"
    r"\blonger\b|\bshorter\b|\bmore months|\bfewer\b|\btoo many\b|\btoo (?:long|short)\b|\bspread|\bextend|"
    r"\bover (?:a )?(?:year|longer)|\ba year\b|(?<!next )(?<!this )(?<!last )\byear\b|\b\d{1,2} (?:monthly )?(?:payments|instalments|installments)\b|"
    r"\b(?:more|less|fewer) (?:months|time)\b|\b(?:longer|more time) to pay\b|\bshorter (?:time|period)\b|"
    r"\bstretch (?:it |them |the payments )?(?:out|to|over)\b|(?<![下上这本每])个月|(?<!首)(?<!每)(?<!第一)(?<!第1)(?<!星)(?<!学)(?<!假)(?<!日)(?<!到)(?<!逾)期|分期|"
    r"(?:[一两二三四五六七八九十]|\d{1,2})年|半年|太短|太长|短了|长了|"
    rf"{_LONGER_TERM_ZH_WORDS}|(?:再)?多几期|少分几期",
    re.I,
)
# At the read-back, the first payment moved to payday: a date, not "not now".
_START_ON_PAYDAY = re.compile(
    r"\b(?:start|begin|first (?:payment|one)|payments?|take (?:it|them)|come out|go out)\b[^.?!]{0,20}"
    r"\b(?:after|from|on|once|when)\b[^.?!]{0,10}\b(?:pay ?day|i(?:'?m| am)? (?:get |been )?paid|my (?:wages|salary|pay))\b|"
    r"\b(?:can|could) (?:it|that|this|they) be (?:moved |put )?(?:to )?after (?:pay ?day|i get paid|my (?:wages|salary|pay))|"
    r"\bafter (?:pay ?day|i get paid) instead\b|"
    r"(?:晚一?点|推迟|往后|以?后|发(?:了)?工资(?:以?后|了)?|\d{1,2}\s*[号日](?:以?后|之后)?)[^，。？?]{0,4}(?:再)?(?:扣|还第一期|开始)",
    re.I,
)
_AMOUNT_WORDS = re.compile(
    r"\bamount|\bless\b|\blower\b|\bsmaller\b|\bcheaper|\breduce|\bper month|\ba month|\beach month|\bmonthly|£|\bquid|"
    r"\bpounds?\b|\bpay (?:more|less)|金额|少一点|少点|每月|每个月|每期|[0-9]+\s*[块元]",
    re.I,
)
_KIND_WORDS = re.compile(
    r"\bpay (?:it )?(?:all|everything|now|today|in full|the lot|off)|\bone[- ]?off\b|\bsingle payment\b|\bone (?:payment|lump)\b|\bclear (?:it|the lot|everything|the (?:full|whole) \w+)\b|\bthe lot\b|\bpay (?:the |it |this )?(?:£?\d[\d,.]* )?(?:now|today)\b|\bin (?:one go|full)|\blump|\bpromise|\ball at once|"
    r"\bwhole (?:amount|thing|lot)|一次性|全额|现在还|立即还|(?<!第)一次还|全部还|还清|结清",
    re.I,
)
# "I don't have 900 quid lying around", "家里都揭不开锅了还怎么还": no money, said plainly (read
# before a question or a lean to a dispute).
_NO_MONEY_WORDS = (
    r"\b(?:i )?(?:don'?t|dont|do not) (?:have|got) (?:it|that|this|the money|the cash|[£$¥€]?\d[\d,.]*)\b(?! (?:on|in|with|ready|now|today))|"
    r"\b(?:the )?money (?:just |simply )?(?:isn'?t|isnt|is not|ain'?t) there\b|\bbudget (?:doesn'?t|doesnt|does not|won'?t|wont) stretch\b|"
    r"\b(?:salary|wages?|income|pay) (?:is|are) not enough\b|\bnot possible for me to pay\b|"
    r"^\W*i (?:can'?t|cant|cannot) pay\W*$|\bhow (?:am|are|is) (?:i|we|anyone) (?:meant|supposed|expected) to (?:pay|afford|find)\b|"
    r"揭不开锅|哪(?:有|来的?)钱|拿什么还|拿啥子?还|莫得钱|没钱还|一分钱都没有|实在没钱|我?咋还|剩不下|(?:不|没)剩(?:下)?(?:什么|啥|多少)|"
    r"(?:怎么|咋)(?:分|还|弄)[^，。]{0,4}都还不(?:上|起|了)|(?:一个|哪个)(?:也|都)还不(?:上|起|了)|(?:都|也)(?:掏不出|拿不出)|一分(?:钱)?都(?:出|拿|掏|还)不(?:出来|来|出|起|了)|"
    r"\b(?:literally |only )?(?:have|got) (?:like )?[£$¥€]?\d{1,2}(?:\.\d\d)? (?:quid |pounds |dollars )?(?:left )?(?:in (?:my|the) (?:account|bank)|to my name)\b|"
    r"\bwhere (?:am|would|do|will) (?:i|we) (?:supposed to |meant to )?(?:be )?(?:getting|get|find|finding) [^.?!]{0,25}\bfrom\b|"
    r"\bwhere (?:is|would) (?:that|it|the money) (?:be )?coming from\b"
)
_NO_MONEY = re.compile(_NO_MONEY_WORDS, re.I)
_CANT_AFFORD = re.compile(
    r"\bcan'?t afford|\bcannot afford|\bcant afford|\b(?:can'?t|cannot|unable to) (?:pay|manage|do) (?:that|any|those|these|them|it|this|now|today|right now)|"
    r"\btoo (?:much|high|expensive|steep|costly|dear|pricey)|\b(?:to|2) much for (?:me|us)\b|\bway too|\bno way i can|\bnot (?:able|possible) to pay|"
    r"\bnothing (?:left|spare)|\bbroke\b|\bskint\b|\bout of (?:my )?(?:budget|price range|reach)|"
    r"\bmore than i (?:can|could|have|earn|get|make|got|take home)\b|\bbeyond (?:what i|my (?:means|budget|reach))|\bout of my (?:league|means)\b|\b(?:don'?t|dont|do not|never) (?:have|got|earn) (?:that kind of|that sort of|that much|the|enough|this kind of) (?:money|cash)|"
    r"还不起|付不起|负担不起|负担不了|还不了|(?<!是)还不上(?!征信)|付不了|拿不出|承受不了|吃不消|没(?:有)?(?:那么多|这么多)钱|太多|太高|"
    rf"{_NO_MONEY_WORDS}",
    re.I,
)
_NONE_WORK = re.compile(
    r"\bnon?e? of (?:these|them|those|this|that|the|it|ur|your|em|dem)\b|没一个(?:对劲|合适|行|能用|适合)|都不考虑|\bpass on (?:all|any|these|those|them)\b|"
    r"\b(?:don'?t|dont|do not|doesn'?t) (?:really )?(?:fit|suit) (?:my|me)\b|\b(?:those|these|they|them|none of them) (?:don'?t|dont|do not) (?:really )?(?:work|fit) (?:with|for|around) (?:my|me)\b|\bneither\b|\bnothing\b[^.?!]{0,15}\b(?:works?|suits?|fits?)\b|"
    r"^\W*(?:no\W+|nope\W+|nah\W+|sorry\W+)?none\b|\bnone (?:is|are|fits?|suits?|works?|will|would)\b|"
    r"\b(?:no|not one|not a single) (?:option|plan|choice) (?:is|works?|suits?|fits?)|\bno to (?:all|any|every)|"
    r"\b(?:not|cannot|unable to|can'?t|cant|cnt|carnt|don'?t|dont|won'?t|wont|couldn'?t|couldnt)\b[^.?!]{0,25}\b(?:any|ne|eny) of (?:these|them|those|this|the|ur|your|em|dem)\b|"
    r"\b(?:those|these|them|they|the) (?:options|plans)? ?(?:are|r|is)?(?:n'?t| not) (?:gonna |going to )?(?:work|suit|do|suitable|any good|any use)|"
    r"\bnot (?:feeling|keen on|into|happy with) any\b|\bnothing (?:there |here )?for me\b|\bnothing (?:there|here) i (?:can|could)\b|\b(?:don'?t|dont|do not) (?:want|need) (?:a|any|the|your|these|those) (?:plans?|arrangements?|options?)\b|\bsomething (?:else|different)\b|\bnothing else\b|"
    r"\b(?:those|these|them|they|the|ur|your) (?:numbers|amounts|prices|figures|payments|options|plans|choices|ones) (?:don'?t|dont|do not|won'?t|wont|will not|aren'?t|are not|r not) (?:really )?(?:work|suit|do|fit|possible|doable|gonna work|going to work)\b|"
    r"\bdon'?t (?:like|want) any|\bno good\b|\bnot (?:any|one) of|\bother options?|\banything (?:else|different)\b|"
    r"\b(?:those|these|they|them|that) (?:don'?t|dont|do not|won'?t|wont) (?:work|suit|do)\b|\bnot those\b|"
    r"\b(?:don'?t|dont) fancy any|\bwhat else (?:have you got|is there|can you (?:do|offer))|\bwhat else (?:(?:have|do|did|can|could) )?(?:you|u|ya)\b|\bwhat else is (?:there|available|on offer)|\bwhat other (?:options|plans|choices)\b|\bany other (?:way|choice)|\b(?:is )?(?:that|this|thats|that'?s) (?:all|it) (?:you|u) (?:can|could|have|got|'?ve got|offer)|^\W*is (?:that|this) (?:all|it)\W*$|"
    r"都不|都不行|都不合适|没(?:有)?一个合适|没一个(?:能用|行|可以|适合)|(?:都|全)\s*pass\b|一个都不|哪个都不|(?:其他|其它|别的)(?:的)?(?:方案|办法|选择|方式)|还有别的",
    re.I,
)
_HARDSHIP = re.compile(
    r"\bhardship|\bpause|\bbreak\b|\bholiday|\bbreathing (?:space|room)|\bbreather\b|\bfreeze|\btoken (?:amount|payment)|"
    r"\bdefer|\bskip (?:a |some |the |\w+ )?(?:months?|payments?)|\b(?:months?|time) off (?:paying|payments)|\b(?:a |some |few |couple of |\d )months? off\b|"
    r"\bpay (?:a bit |much |a lot )?less\b|\b(?:lower|reduce|smaller|decrease) (?:the |my )?(?:monthly )?(?:payments?|instalments?|amount|monthly)|"
    r"\breduced (?:amount|monthly)|\bsomething (?:more )?(?:manageable|affordable|realistic)|\b(?:a )?longer (?:time|period|term)\b|"
    r"\bover (?:2|two|3|three|4|four|5|five) years|\b(?:18|24|36|48|eighteen|twenty[- ]four) months|"
    r"\b(?:on|put on|be put on) hold\b|\b(?:help|support) (?:scheme|for people|available)|\bany (?:help|support)\b|"
    r"\bsmaller (?:payments?|amounts?|plan)|\bsomething (?:much |a lot |a bit )?smaller|\blower payments|"
    r"\blonger than (?:12|twelve|a year)|\bon benefits\b|\b(?:universal credit|pip|esa)\b|"
    r"\bfinancial (?:difficulty|hardship|trouble)|\breduced (?:plan|payments?)|\bstop (?:the )?interest|\b(?:stop|pause|freeze|suspend|waive|remove|drop)\w* (?:the |any |all |my )?(?:interest|charges|fees)\b|\b(?:interest|charges|fees) (?:be |to be |being |get |got )?(?:frozen|stopped|paused|waived|removed|suspended)\b|"
    r"\bwhat i can (?:afford|manage)\b|\blow income\b|\bstruggling (?:with|for) money\b|\bstruggling financially\b|"
    r"暂停|缓一缓|缓冲期?|停息|困难|低保|延期|宽限|冻结|暂时不还|先不还|停还|先少还|体谅|通融|一分钱(?:收入)?都没有|没有?收入|降低月供|缓(?:几|一段|一下|两)|停一停|先停一?下|先停(?:[一两三1-3]|几)个?月|歇一歇|(?:每个?月|每期)少还|能不能少还点|(?:月供|每期|每月|每个月)(?:再)?(?:少|低)一?点|停(?:几|一段)",
    re.I,
)
_SETTLEMENT = re.compile(
    r"\bsettle(?:ment)?\b(?! (?:it|this|the (?:full |whole |entire )?(?:arrears|900|overdue|balance|amount|debt|lot)(?: (?:amount|balance|sum))?(?: of)?(?: [£$¥€]?\d[\d,.]*)?|my (?:full |whole )?(?:balance|debt|arrears))(?: in full| now| today| right now| straight away| asap)*(?:\W*$| (?:by|with|on|using) (?:my |a |the )?(?:card|debit card|bank transfer|app)| (?:on|by|before|after|when|at|next|this|in \d)\b|\W+(?:send|give) me))|\bdiscount|"
    r"\breduce (?:the|what i) (?:total|balance|amount)|\bwrite (?:it |some (?:of it )?)?off\b|\bknock (?:some|a bit) off|\b(?:a|any|some) reduction\b(?! (?:in|of|to) (?:my |the )?(?:monthly|payments?|instalments?))|\boff the (?:total|balance|debt)\b|"
    r"\bfull and final\b|\bless th[ae]n (?:the )?(?:full|whole|total)|\blowest (?:you'?ll|you would) (?:take|accept)|"
    r"\baccept (?:a )?(?:lower|smaller|reduced)|\bcall it (?:done|quits|even)|"
    r"\b(?:take|accept) [£$¥€]?\d[\d,]* (?:to|and) (?:close|clear|settle|end|call)|"
    r"\d[\d,]*\b[^.?!]{0,25}\b(?:if|as long as|provided) (?:you|u) (?:close|clear|settle|write|wipe|call it|end|mark)|\b(?:reduced|smaller|lower) (?:amount|sum|figure) to (?:close|clear|settle|end|finish|wipe|pay off)\b|减免|打(?:个|点)?[一二三四五六七八九\d]?折|两清|少(?:要|收)(?:一)?点|\d[\d,]*[^，。]{0,10}把[^，。]{0,6}账(?:结清|了结|清了|两清)|\blump sum\b[^.?!]{0,60}\b(?:close|settle|clear|write off|call it)\b|\d[\d,]*\s*(?:元|块)?\s*以?(?:结清|了结)(?:全部|所有)(?:的)?(?:欠款|债务|欠债)|(?<!月)(?<!期)减(?:一半|半)|\d[\d,]*[^，。]{0,6}了结|剩下的?(?:就)?(?:免了|免掉|不还了|算了)|(?:这|那)?账就算清|(?<!每月)(?<!每个月)(?<!每期)(?<!先)少还一点|一次性结清",
    re.I,
)
# "the balance is wrong, I owe less": the debt itself, not the plan; asked about first.
_OWED_WRONG = re.compile(
    r"\b(?:balance|amount owed|total|figure|debt|arrears|outstanding|owing)\b.{0,25}\b(?:wrong|incorrect|not right)\b|"
    r"\bowe (?:you )?(?:way |much |a lot |far )?less\b|\b(?:don'?t|dont|do not) agree with (?:the|this|that|your) (?:amount|balance|figure|total)\b|\b(?:should|shud|shld) be (?:way |much |a lot |far )?(?:less|lower)\b|\b(?:don'?t|dont|do not) owe (?:that|this|you that) much\b|"
    r"欠款不对|欠的(?:钱|数)?不对|(?:总额|余额|总数|欠款金额)不对|没欠这么多",
    re.I,
)
_ASKS_WHO = re.compile(
    r"^\W*(?:are you|r u|is this|am i (?:talking|speaking|chatting))\b|你是(?![^，。？?！!]*[？?][^，。？?！!]*(?:找|转|要)(?:个)?(?:客服|人工|真人|活人))",
    re.I,
)
# 叫你们经理来: a manager asked for (a person, even after 你是机器人吧).
_BOSS_ZH_WORDS = r"(?:叫|找|要|让|喊)(?:个|你们)?(?:的)?(?:经理|领导|主管|负责人|上级|真人)"
_BOSS_ZH = re.compile(_BOSS_ZH_WORDS)
_HUMAN = re.compile(
    r"\b(?:real|actual|live) (?:person|human|people)|\bhuman\b|\bsomeone (?:real|on the phone)|"
    r"\b(?:speak|talk|chat)(?: this over)? (?:to|with) (?:someone|somebody|a person|an? (?:agent|advis[eo]r|adviser))|"
    r"\bwith (?:a|an actual|a real) person|\b(?:on|over|by) (?:the )?(?:tele)?phone\b|\bcall me\b|\bphone me\b|"
    r"\b(?:call|ring|phone) (?:someone|somebody|you(?: guys)?)\b|\bnumber i can (?:ring|call)|"
    r"\b(?:your|a|the) (?:manager|supervisor)\b|^\W*(?:agent|operator|a person|person)\W*(?:please|pls)?\W*$|"
    r"\bcustomer (?:service|services|care|support)\b|\b(?:to|with|an?) (?:advis[eo]r|adviser|agent|operator)s?\b|\brepresentative\b|\b(?:member of|your|to|the) (?:staff|team)\b|"
    r"\bcall ?back\b|\b(?:some|any)(?:one|body) (?:in|from|at) (?:your|the) (?:office|team)|"
    r"\b(?:some|any)(?:one|body) (?:to )?(?:call|ring|phone|contact) me\b|\b(?:call|ring|phone) me\b|\b(?:like|want|need|have|get|prefer) a (?:phone )?call\b|"
    r"\b(?:talk|speak|chat) (?:to|with) (?:some(?:one|body)|a human|people|a person)\b|"
    r"\b(?:not|don'?t|dont|no|rather not|instead of|hate|sick of|fed up with)\b[^.?!]{0,30}\b(?:a |this |the |some )?(?:chat ?)?(?:ro)?bots?\b|"
    r"\bnot (?:a |the )?machines?\b|\b(?:an? |the )?(?:actual|real|proper) (?:advis[eo]r|agent|officer)\b|\b(?:your|an?|the) officers?\b|\bnot (?:this|the|a) chat\b|"
    r"人工|真人|活人|客服|转接|(?<!别)(?<!别再)(?<!不要)(?<!不要再)打电话给我|"
    rf"{_BOSS_ZH_WORDS}",
    re.I,
)
# A question about the terms, not a request: "what if I …", "does the rest go down too",
# "can I pay it off early if …". Requests ("can we make it 12 months?") are changes.
_ASKS = re.compile(
    r"^\W*(?:what|whats|how|why(?! not\b)|when|where|who|which|will(?! do\b)|would|does|do (?:i|you|we|they)|is|are|am|if)\b|"
    r"\bwhat (?:if|happens|about|time)\b|\bpay (?:it )?off early\b|\bpay (?:extra|more|a bit more)\b|"
    r"\boverpay|\bif i (?:get|have|want|miss|pick|choose)\b|\b(?:can|could) you (?:tell|explain|show)\b|会不会|能不能提前|是不是|吗[？?]?\s*$|"
    r"几号|哪天|哪一天|什么时候|啥时候|多少|怎么|为什么|咋(?:办|整|弄)|提前还|提前结清",
    re.I,
)
_REQUEST = re.compile(
    r"\bchang|\binstead\b|\brather\b|\bprefer|\bmake it\b|\bswitch|\bmove\b|\bpush|\bhow about\b|\b(?:is it|would it be|be) possible to\b|"
    r"\bwhat about (?:the )?(?:\d|£|a |an )|\b(?:what|how) about (?:doing|making|paying|having|spreading|splitting)\b|\bstretch|\bextend|\b(?:a bit |any )?(?:longer|shorter)\b|\b(?:could|can|may) (?:i|we) (?:have|get|take) (?:a bit |a little )?(?:longer|more time|more months|fewer|less)\b|"
    r"\d\s*(?:quid|pounds?)?\s*(?:(?:a|per|each|every|/)\s*(?:month|week|fortnight)|monthly|weekly|fortnightly|pm|pw|pcm)\b.{0,25}\b(?:ok|okay|alright|enough|acceptable|fine|work|do|possible|suit|good)\b|"
    r"\b(?:could|can|will|would) you (?:take|accept)\b|"
    r"\b(?:i (?:want|wanna)|i(?:'?d| would) like)\b(?! to (?:know|ask|understand|check|see|find out))|"
    r"\b(?:can|could|would) (?:it|they|that|the (?:\w+ )?(?:payments?|instalments?|date)|payments?) (?:be (?:taken |paid |moved |changed |put )?|come out |go out |start )(?:on|in|at|from|by|to|after|before)\b|"
    r"(?:^\W*|[，,。；;\s])(?:我|那|那我|那就)?(?:能|可以|可不可以|能不能)(?!提前)[^？?，,。]*吗[？?]?\s*$|(?:行|可以|好)吗[？?]?\s*$|"
    r"(?:每周|每个?月|每两周|每半个月)\s*\S{1,6}?(?:可以|行|够|能不能)|改|换|调整",
    re.I,
)
# "can it start next month", "能不能下个月再开始还": the first payment's date, not a break.
_START_LATER = re.compile(
    r"\b(?:start|begin)\w*\b[^.?!]{0,15}\b(?:next (?:month|week)|in (?:a|two|\d+) (?:weeks?|months?)|on the \d{1,2}(?:st|nd|rd|th)?)\b|"
    r"(?:下个?月|下周|\d{1,2}号|月底|月初)[^，。？?]{0,6}(?:开始|起|扣)|晚一?点(?:再)?(?:扣|开始)|"
    # 能不能推迟到下个月15号: the payments moved to a day, not a break
    r"(?:推迟|推|挪|改|延|延期|往后推|往后挪)到[^，。？?]{0,4}\d{1,2}\s*(?:号|日)|"
    # 首期能推到下个月吗, 10天后太早了 能晚点吗: the first payment later
    r"(?:首期|第一期|第一笔|第一次)(?:还款|扣款)?[^，。？?]{0,6}(?:推|挪|改|晚|延|往后)|"
    # 开始时间能不能提前到明天: the start moved either way is a date, not a break
    r"(?:开始时间|开始日期|首期日期|还款日期)[^，。？?]{0,6}(?:提前|推|挪|改|晚|往后)|提前到\s*(?:明天|后天|今天|下周|\d{1,2}\s*号)|太(?:早|快)了?[，,\s]*(?:能|可以|可不可以)?(?:不能)?(?:晚|推|往后)|"
    r"(?:往后|推迟|延后|延|推|晚)(?:一|两|几|1|2|3)?(?:个)?(?:周|星期|礼拜|天)[^，。？?]{0,4}(?:再)?(?:开始|起|扣|还)",
    re.I,
)
_LONGER_TERM_ZH = re.compile(_LONGER_TERM_ZH_WORDS)
# "can I pay more some months", "could I overpay": more than the plan, not hardship.
_PAY_MORE = re.compile(
    r"\bpay (?:a (?:bit|little) )?(?:extra|more|double|over)\b|\boverpay|\b(?:pay|clear) (?:it |this |the (?:\w+ )?)?(?:off )?(?:early|earlier|sooner|quicker|faster)\b|"
    r"多还|提前还",
    re.I,
)
# "can i change plans later on?": a question about the terms, not a change now.
_ABOUT_LATER = re.compile(
    r"\b(?:later on|in the future|down the line|at some point|along the way|later if|if (?:my|things|circumstances|money|the situation)\b[^.!?]{0,30}\b(?:improves?|changes?|gets? better|picks? up))\b[^.!]*\?\W*$",
    re.I,
)
# "is this instead of my normal payments?": the plan asked about, not a change asked for.
_ASKS_ABOUT_PLAN = re.compile(r"^\W*(?:is|does|will|would) (?:this|that|it)\b(?! (?:be )?possible)[^?]*\?\W*$", re.I)
_EXPLICIT_DATE = re.compile(
    r"\b\d{1,2}(?:st|nd|rd|th)\b|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|\bpay ?day\b|\bin \d+ (?:days?|weeks?)\b|"
    r"\b\d{1,2}[/.]\d{1,2}\b|\bnext (?:week|month)\b|\bend of (?:the |next )?m(?:o)?nth\b|\btomorrow\b|"
    # loosely: "after christmas", "month end", "2 weeks from now", "the first of next month"
    r"\b(?:after|before|by|until|till|over) (?:christmas|xmas|new year|easter)\b|\bmonth[- ]end\b|"
    r"\b(?:\d+|a|one|two|three) (?:days?|weeks?) from (?:now|today)\b|\b(?:first|1st) of (?:next|the) month\b|"
    r"\d{1,2}号|\d{1,2}日|明天|明儿|后天|下周|月底|月尾|下个?月|月初|月中|(?:这|下)?(?:周|星期|礼拜)[一二三四五六日天]|"
    r"过完(?:年|节)|年后|(?:国庆|春节|过年|节)(?:以?后|之后|过后)|下(?:个)?(?:礼拜|星期)|(?<![几多])[一二三四五六七八九十]{1,3}号",
    re.I,
)
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
    "fourth": 4, "4th": 4, "fifth": 5, "5th": 5, "sixth": 6, "6th": 6,
    "第一": 1, "第二": 2, "第三": 3, "第四": 4, "第五": 5, "第六": 6,
    "最后": -1, "最下面": -1, "最上面": 1, "中间": 0,
}  # fmt: skip
_OPTION_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}  # "option one"
_FILLER = r"(?:\s+(?:one|option|plan|choice|button|pls|plz|please|thanks|thx|ta|mate|then|for me|is fine|would be good|works))*\W*$"
_POSITION = re.compile(
    r"(?:\b(?:option|number|no\.?|choice|#)\s*(\d|one|two|three|four|five|six)\b)|"
    r"(?:(?<!after the )(?<!on the )(?<!by the )(?<!before the )(?<!from the )(?<!until the )(?<!till the )"  # "after the 1st": a day
    r"\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|6th)" + _FILLER + ")|"
    r"(第[一二三四五六](?!期|天|次|笔|个月|号)|(?:最后|最下面|最上面|中间)(?=一个|那个|一种|那种|个|的))(?:个|种)?|"
    r"(?:(?<!on )\b(last|bottom|top|middle)" + _FILLER + ")",  # "part of the 3200 or on top": in addition
    re.I,
)
_PLAN_BY_MONTHS = re.compile(
    r"\b(\d{1,2})[- ]?(?:months?|mths?|mos?|m)\b|(\d{1,2})\s*个月|(\d{1,2})\s*期|"
    r"\b([1-9]|[12]\d|3[0-6])[- ]monthly (?=one|plan|option|payments?|instalments?|installments?)",
    re.I,
)
_PLAN_BY_AMOUNT = re.compile(r"(?:£|\$|¥|€)\s?(\d+(?:\.\d\d)?)|\b(\d+(?:\.\d\d)?)\s*(?:quid|pounds?|元|块)", re.I)
# A shown plan pointed at by its monthly amount: "the 150 one", "the one that's 150",
# "option with 300 per month", "the 75 per month plan".
_PLAN_AT_AMOUNT = re.compile(
    r"\b(?:the|that|this) (?:one|option|plan)s? (?:that'?s|thats|that is|which is|with|at|for|of|where (?:i|you|we) (?:pay|give)|where it'?s|paying) (?:the )?[£$¥€]?(\d+(?:\.\d\d)?)\b|"
    r"\bthe [£$¥€]?(\d+(?:\.\d\d)?)(?: (?:a|per|each|every) month| monthly| pm| pcm)? (?:one|option|plan)s?\b|"
    r"\b(?:option|plan) (?:with|at|of|for) [£$¥€]?(\d+(?:\.\d\d)?)\b|"
    r"(?:每|一)(?:期|个?月)\s*[¥￥]?(\d+(?:\.\d\d)?)\s*(?:元|块)?\s*的?\s*(?:那个|那种|那项|方案|选项)|"
    r"[¥￥]?(\d+(?:\.\d\d)?)\s*(?:元|块)?\s*(?:一期|一个?月)?的(?:那个|那种|那项|方案|选项)|"
    r"(?:选|要)(?:择)?(?:每|一)(?:期|个?月)(?:还)?\s*[¥￥]?(\d+(?:\.\d\d)?)|"
    r"(?:选|要)(?:择)?\s*[¥￥]?(\d+(?:\.\d\d)?)\s*(?:元|块)?\s*(?:一期|每期|一个?月|每个?月)",
    re.I,
)
_PLAN_WORD = re.compile(r"\bplan\b|\bones?\b|\boption\b|\bmonthly\b|\ba month\b|\bpcm\b|方案|那个|每月|一期|每期", re.I)
_QUESTION = re.compile(
    r"\?\s*$|？\s*$|^\s*(?:what|how|why|when|will|would|can|could|is|are|do|does|if)\b|吗|么|什么|怎么|为什么", re.I
)


_MONTH_NUMBERS = {"three": 3, "six": 6, "nine": 9, "twelve": 12, "eighteen": 18, "twenty four": 24, "twenty-four": 24}
_MONTHS_IN_WORDS = re.compile(
    r"(?<![a-z])(three|six|nine|twelve|eighteen|twenty[- ]four)[- ](?:monthly )?(?:months?|payments|instalments|installments)\b",
    re.I,
)
_MONTHS_ZH = {"三": 3, "六": 6, "九": 9, "十二": 12, "十八": 18, "二十四": 24}
_MONTHS_IN_ZH = re.compile(r"(二十四|十八|十二|三|六|九)\s*(?:个月|期)")
_YEARS_ZH = re.compile(r"([半一两二12])年")
_YEARS = re.compile(r"\b(?:a|one|1) year\b|\bthe year(?:[- ]long)? (?:one|plan|option)\b|\b(two|2) years\b", re.I)
_COUNT = re.compile(r"\b(\d{1,2}) (?:monthly )?(?:payments|instalments|installments)\b", re.I)


# "make it 12", "12 instead", "could I do it in 4": a bare number at a plan's read-back
# is a length (the form asks which when it is not one policy allows).
_BARE_LENGTH = re.compile(
    r"(?:(?<![£$¥€\d.,])\b|(?<=[要选换改成]))([2-9]|[12]\d|3[0-6])\b(?!\s*(?:%|£|pounds?|quid|a (?:month|week)|per|each|pw|pm|pcm|元|块|号|日|st|nd|rd|th)|[.,]\d)",
    re.I,
)
# "twelve would be better", "id prefer 3": the length in words too.
_LENGTH_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "eighteen": 18, "twenty four": 24, "twenty-four": 24,
}  # fmt: skip
_BARE_LENGTH_WORD = re.compile(
    r"\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen|twenty[- ]four)\b"
    r"(?!\s*(?:%|£|pounds?|quid|a (?:month|week)|per|each|pw|pm|pcm|weeks?|days?|years?|o'?clock))",
    re.I,
)
# "3 instead of 6", "12 not 6", "from 6 to 12", "6 is too many": the length they are leaving.
_LENGTH_LEFT = re.compile(
    r"\b(?:instead of|rather than|not|than|from)\s+(?:the\s+)?(?:\d{1,2}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
    r"(?:\s*(?:months?|mths?|mos?|payments?|instalments?|installments?)|[- ]month(?:ly)? (?:one|plan))?\b|"
    r"\b(?:\d{1,2}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)(?:\s*(?:months?|mths?|payments?))?"
    r"\s+(?:is|are|'s|seems?|feels?)\s+(?:(?:way |far |a bit |much )?too (?:many|long|short|much|few)|a lot|loads|a bit much)\b|"
    r"(?:半年|[一两二三四五六七八九十]+年|\d{1,2}\s*(?:个月|期)|(?:三|六|九|十二)(?:个月|期))\s*(?:太|有点|有些)(?:短|长|多|少)|"
    r"(?:不要|不想要|不选|不是)\s*(?:半年|\d{1,2}\s*(?:个月|期)|(?:三|六|九|十二)(?:个月|期))",
    re.I,
)

# "I can do 20", "could manage £15 a week": an amount offered, not a refusal.
_OFFERS_AN_AMOUNT = re.compile(
    r"\b(?:can|could|cud|will|would|might|maybe)\b[^.?!]{0,20}\b(?:do|pay|manage|afford|stretch to|offer)\b[^.?!]{0,12}\d|"
    r"\b(?:i have|i'?ve got|i got)\s+[£$¥€]?\d[\d,]*\b[^.?!]{0,20}\b(?:can|could)\s+(?:give|send|pay|transfer)\b|"
    r"\bi fit (?:pay|do|manage|send|give)\b[^.?!]{0,12}\d",
    re.I,
)
_IN_FULL = re.compile(
    r"\ball\b|\bfull\b|\bwhole\b|\bentire\b|\beverything\b|\bthe lot\b|\bclear\b|\bin one go\b|全部|全额|一次性|一次(?:结清|还清|付清|还完|还了)|(?:还|俾|畀|付)晒|一(?:起|块|并)还|一分(?:钱)?(?:都|也)?不少|全(?:还|付)(?:上|清|了)?(?!不)",
    re.I,
)
_COUNT_OF_PAYMENTS = re.compile(
    r"\b(\d{1,2})\s*(?:payments|instalments|installments|goes)\b|\b(\d{1,2})\s*x\s*[£$¥€]?\d|"
    r"[£$¥€]?\b\d{2,}(?:\.\d\d)?\s*x\s*(\d{1,2})\b(?![.,]\d)",
    re.I,
)
# "theres no way i can pay 75", "i cant do 75 a month": a figure refused, not offered.
_OFFER_REFUSED = re.compile(
    r"\b(?:no way|not a chance|there'?s no way|can'?t|cannot|cant|couldn'?t|unable to|not able to)\b(?: i| we)?(?: can| could)?(?: even| possibly| really)?"
    r" (?:pay|do|manage|afford|find)\b",
    re.I,
)
# The whole balance, or now: a kind of payment, not an amount.
_ALL_NOW = re.compile(
    r"\ball\b|\bfull\b|\bwhole\b|\beverything\b|\bthe lot\b|\bnow\b|\btoday\b|全部|全额|一次性|现在|今天|马上", re.I
)
# An amount given for each period ("20 a week", "一周还20"), not a date or a lump sum.
_EACH = re.compile(
    r"\b(?:a|per|each|every|/)\s*(?:week|fortnight|month)\b|\b(?:weekly|fortnightly|monthly|pw|pm|pcm)\b|每周|一周|每个?月|一个月|每两周|两周|每期|礼拜|星期",
    re.I,
)
# "even the smallest one is too much", "cant even afford the 75": the options refused, not one chosen.
_REFUSES_EVEN = re.compile(
    r"\beven (?:the|that|your|ur|a) [^.?!]{0,30}\b(?:too (?:much|high|steep|expensive)|can'?t|cannot|not (?:possible|doable|affordable)|out of (?:my )?reach|beyond (?:me|my means)|"
    r"(?:is |'?s )?(?:still )?more than (?:i|we) (?:have|can|could|get|earn))|"
    r"\b(?:can'?t|cannot|cant|couldn'?t|unable to) even (?:afford|pay|manage|do)\b|\b(?:can'?t|cannot|cant) (?:afford|pay|manage) even\b|"
    # "300 a month?? I wish", 一个月三百？开玩笑吧: a figure shown, laughed off
    r"\d[^.!]{0,25}\?+\s*(?:i wish|yeah right|as if|you'?re (?:having a laugh|joking|kidding)|are you (?:joking|kidding|serious))\b|"
    r"[？?]\s*(?:开玩笑|做梦|逗我)|"
    # 连最少那个都吃力, 每月七十五也挤不出来: even that one, even that figure
    r"连[^，。？?]{0,10}都(?:吃力|够呛|还不起|付不起|还不了|付不了|拿不出|挤不出|困难|难)|"
    r"(?:也|都)(?:挤不出|拿不出|还不起|付不起|还不了|付不了)|剩不下|(?:不|没)剩(?:下)?(?:什么|啥)|我哪有|"
    r"\bhow (?:am|are|is) (?:i|we|anyone) (?:meant|supposed|expected) to (?:pay|afford|find|manage)\b",
    re.I,
)
_SHORTEST = re.compile(
    r"\b(?:shortest|quickest|fastest|biggest payments?)\b|\b(?:finish|finishes|ends?|done) (?:the )?(?:quickest|soonest|fastest|first)\b|最短|最快",
    re.I,
)
_LONGEST = re.compile(r"\b(?:longest|cheapest|lowest|smallest|most months)\b|最长|最低|最少", re.I)
# "I would like to settle the overdue amount of £900 immediately": the arrears paid now, in full.
_SETTLE_OVERDUE_NOW_WORDS = (
    r"\bsettle (?:the )?(?:overdue|arrears|outstanding)(?: amount| balance| sum)?(?: of [£$¥€]?[\d,.]+)?(?: in full)? "
    r"(?:now|today|immediately|right away|straight away)\b"
)
_SETTLE_OVERDUE_NOW = re.compile(_SETTLE_OVERDUE_NOW_WORDS, re.I)
_PAY_NOW = re.compile(
    r"\b(?:pay(?:ing)?|clear(?:ing)?|settl(?:e|ing)) (?:it |this |the lot |everything |(?:the )?(?:full|whole|entire) (?:amount|thing|lot|balance|debt|arrears|overdue(?: amount| bit| part)?) |(?:the )?[£$¥€]?\d[\d,.]* )?(?:all |off )?"
    r"(?:(?:the )?(?:full|whole|entire) (?:amount|thing|lot|balance|debt|arrears) )?(?:now|today|2day|tday|right now|rn|asap|straight away|right away|immediately|this minute)\b|\ball of it (?:now|today)\b|\bpay(?:ing)? (?:the )?(?:full |whole |entire )?[£$¥€]?\d[\d,.]* (?:now|today|right now|this minute|straight away|right away|immediately)\b|"
    r"\b(?:get|have) (?:it|this|that|the (?:\w+ )?(?:amount|arrears|balance|lot|900)) (?:all )?(?:paid|cleared|sorted) (?:off )?(?:today|now|right now|straight away|asap)\b|(?:马上|立马|立刻|立即)(?:就)?(?:还|付|转)(?!不|正)|现在(?:就)?(?:还|付|转)(?!不|正|没|是|有|在|要|得|差|欠|剩)|现在(?:就)?把[^，。]{0,8}(?:打|转|还|付)(?:给|过去|过来|了|掉|清)|直接(?:一次性|全部?|全额|全款)?还|一次性(?:还|付)(?:了|掉|清)|"
    r"\b(?:sort|take|transfer|send|do) (?:it|this|the (?:\w+ ){0,2}(?:money|payment|amount|arrears|balance|lot|900)|[£$¥€]?900)(?: all)? (?:now|today|right now|straight away|right away|at once|asap|this (?:morning|afternoon|evening)|tonight)\b|"
    r"\btake (?:it|the (?:\w+ )?(?:money|payment|amount|arrears|900)|[£$¥€]?\d[\d,.]*) (?:off|from|out of) my (?:debit |credit )?(?:card|account|bank)\b|"
    r"\b(?:use|charge|put it on) (?:my |the )?(?:debit |credit )?card\b|"
    rf"{_SETTLE_OVERDUE_NOW_WORDS}|"
    r"\bpay (?:the )?(?:nine hundred|[£$¥€]?900)(?: pounds| quid| dollars)? (?:now|today|right now|straight away|right away|immediately)\b|\b(?:let'?s|lets) (?:just )?get (?:it|this) paid\b|"
    r"\b(?:i (?:have|got)|i'?ve got) the (?:money|funds|cash)(?: (?:now|today|here|sat|sitting|ready|in my account))|"
    r"\bpay (?:the |it |this )?(?:[£$¥€]?900|lot|arrears|overdue(?: amount)?)(?: off)? and be done\b|"
    # "pay the overdue £900 in full this afternoon", "pay the lot thats overdue now"
    r"\bpay (?:the )?(?:overdue |outstanding )?[£$¥€]?\d[\d,.]*(?: in full)? (?:now|today|tonight|this (?:morning|afternoon|evening)|right now|straight away|right away|immediately)\b|"
    r"\bpay (?:the lot|everything|it all)(?: (?:that'?s|thats|which is) (?:overdue|owed|due))? (?:now|today|right now)\b",
    re.I,
)
# 结了马上还, 发了工资就还: paying as soon as the money comes (a day, when one is named).
_ONCE_PAID_ZH = re.compile(r"(?:结了|发了|到了|到账|拿到|收到)[^，。]{0,4}(?:就|马上|立马|立刻)(?:还|转|付)")
# 现在, 现可, now: paying now (with the whole sum: 全额 现在 怎么付).
_NOW = re.compile(r"现在|马上|立即|立刻|立马|现可|今天|\bnow\b|\btoday\b|\bright away\b", re.I)
_WHEN_PAID = re.compile(r"\bwhen i get paid\b|\bon pay ?day\b|\bafter pay ?day\b|发工资(?:后|以后|那天)", re.I)
_HALF_YEAR = re.compile(r"\bhalf (?:a )?year\b|半年", re.I)
_YEAR_LONG = re.compile(r"\byear[- ]long\b|一年", re.I)
_TAKE_NUMBER = re.compile(
    r"\b(?:go (?:with|for)|take|pick|choose|i'?ll (?:take|have|do)|put me (?:down )?(?:for|on)|sign me up (?:for|to)|do me|gimme) (?:the )?(\d{1,2}|three|six|nine|twelve|eighteen)\b"
    r"(?!\s*(?:a\b|per|every|each|monthly|weekly|pw|pm|pcm|£|pounds?|quid|[.,]\d))",
    re.I,
)
# "will pay it when I get paid on the 25th", 我选按日期还的那个: the whole sum on a day of theirs.
_PAY_ON_A_DAY_WORDS = (
    r"\b(?:(?:will|'ll|i'?ll|can|could) (?:pay|clear)|if i paid) (?:it|this|everything|it all|the lot|the (?:\w+ )?(?:amount|arrears|900|lot)|[£$¥€]?900)\b[^.?!]{0,12}\b(?:when i get paid|on pay ?day|on the \d{1,2}(?:st|nd|rd|th)?\b|on (?:mon|tues|wednes|thurs|fri|satur|sun)day)|"
    r"按(?:约定|指定)?(?:的)?日期还|约定(?:一?个)?日期(?:一次)?还"
)
_PAY_ON_A_DAY = re.compile(_PAY_ON_A_DAY_WORDS, re.I)
_BY_A_DATE = re.compile(
    r"\bby a (?:set |certain |later )?date\b|"
    r"\b(?:pay|clear) (?:it |the \w+ )?(?:all |in full |off |everything )(?:by|on) (?:a|the|my) |"
    rf"{_PAY_ON_A_DAY_WORDS}",
    re.I,
)
# "they're all rubbish": the options judged, not an insult at anyone.
_OPTIONS_BAD = re.compile(
    r"\b(?:they'?re|theyre|they are|these are|those are|them|the options are|your options are|all)\b[^.?!]{0,12}"
    r"\b(?:rubbish|crap|useless|pants|terrible|awful|a joke|ridiculous|shit|rip ?off)\b",
    re.I,
)
# Topics that would otherwise take over which an option named plainly wins over.
# 月中吧 15号前一次性搞定 ok吗: their terms, then "ok?" (an offer, not a question about the terms).
_OK_TAG = re.compile(r"(?:\bok|\bokay|行|可以|好)\s*(?:吗|么|嘛|不|不行)?\W*$", re.I)
_CHOICE_MISTAKEN_FOR = frozenset({"third_party", "ask_balance", "claim_already_paid"})
_PLAN_NOUN = re.compile(r"\bplans?\b|分期", re.I)
# "split it into payments please", 分期吧: a plan asked for, its length not yet named.
_PLAN_ASKED = re.compile(
    r"^\W*(?:那|那就|就|我想|我要|还是)?分期(?:吧|还|付|好了|算了)?(?:\W|$)|"
    r"\b(?:split|spread|break) (?:it|this|that|the (?:\w+ )?(?:amount|balance|arrears|900))(?: up)? (?:into|over|across) (?:payments|instalments|installments|monthly payments|a few months)\b|"
    r"\bpay (?:it |this )?in (?:instalments|installments|monthly payments)\b",
    re.I,
)
# "3天后", "两周以后": a day counted from today, in Chinese; only where a payment is offered (at
# the read-back "10天后太早了" names the day being left, which _EXPLICIT_DATE must not take).
_IN_SOME_DAYS_ZH = re.compile(r"(?:\d+|[一两三四五六七八九十])(?:天|周|个星期|个礼拜)(?:以?后|之后)")
# 两周80块, 两个礼拜一百五, 半个月一百: a figure every two weeks or half a month, which
# parse_periodic_amount leaves without a period (两个星期200 may be "in two weeks"); their
# figure all the same, taken as a month's (never more than they said).
_FIGURE_EVERY_FEW_WEEKS_ZH = re.compile(
    r"(?:两|2)\s*个?\s*(?:周|星期|礼拜)(?!后|以后|之后|内)\s*(?:还|付|给|能还|能给)?\s*(?:\d|[一二三四五六七八九十百])|"
    r"半个?月(?!后|以后|之后|内)\s*(?:还|付|给)?\s*(?:\d|[一二三四五六七八九十百])"
)
# A day and paying on it, in Chinese: 等我5号发了薪水就还, 明儿个下午给你转过去.
_PAYS_THEN_ZH = re.compile(
    r"(?:就|再|会|才|一定|肯定)(?:还|转|付)|还(?:上|清|款|钱|你|给你)|[转打](?:给你|过去|过来)|付(?:清|款)|到时候[^，。]{0,3}(?:还|付|转)"
)
# A payment still to come, not one made: "I'll pay tomorrow", 明儿个转过去.
_STILL_TO_COME = re.compile(
    r"\b(?:will|'ll|gonna|going to|shall)\b|明天|明儿|后天|下周|下个?月|月底|月尾|过完年|年后|等我",
    re.I,
)
# "the one in between", "the middle plan if thats ok", 中间那个: the middle plan (of three plans,
# not the middle of all the buttons, which would be a plan by position by accident).
_MIDDLE = re.compile(
    r"\bin between\b|\bmiddle (?:one|option|plan|choice)\b|\bnot the (?:longest|shortest)\b[^.?!]{0,20}\bnot the (?:longest|shortest)\b|\b(?:one|option|plan) in the middle\b|\bthe middle\W*$|中间(?:那|一)?(?:个|种)",
    re.I,
)
# "can the payments come out by direct debit", 扣款是从哪张卡扣: how the money is taken,
# asked (not a change of date, which the classifier often leans to).
_PAYMENT_METHOD_QUESTION = re.compile(
    r"\b(?:by|via|through|with|set up|setup|on) (?:a )?(?:direct debit|standing order|dd)\b|\bdirect debit\b[^.!]*\?|"
    r"\b(?:which|what) (?:card|account|bank)\b[^.!]*\b(?:come out|taken|take|debit|use|pay)|"
    r"哪张卡|哪个(?:卡|账户)|从哪(?:里|儿)?扣|自动扣款还是|还是(?:我)?自己(?:转|还|付)|自动扣款[^，。]*(?:吗|么|嘛|[?？])|能(?:不能)?用(?:支付宝|微信|信用卡)",
    re.I,
)


# The reason step.
# Words that say why, when the classifier is unsure which reason it is.
_REASON_WORDS = (
    (
        "unemployment",
        r"\bjob\b|\bsacked|\bfired\b|\bredundan|\blaid off|\blet (?:me|us|(?:a )?(?:load|lot|bunch|few|some|half|most) of us) go|\blaid (?:me |us )?off|\bunemployed|"
        r"\bout of work|\blooking for work|\bno (?:\w+ )?work\b(?! (?:for|on) (?:the|this) (?:loan|debt))|\b(?:shut|closed) (?:down|for good)\b|\bcontract (?:ended|finished)|失业|被裁|丢了工作|没工作|找工作",
    ),
    (
        "reduced_income",
        r"\bhours (?:cut|reduced|got cut)|\bovertime|\bpay cut|\bless (?:work|money|hours)|"
        r"\bincome\b|\bwages?\b|\bsalary|\bbenefits?\b|\bpartner left|\buniversal credit\b|"
        r"\b(?:pay|paid|wages?|salary) (?:was |were |came |come |got )?(?:in )?late\b|"
        r"\blost (?:\w+ ){0,3}(?:of )?(?:pay|wages?|income|earnings|hours|shifts|overtime)\b|"
        r"\b(?:work|jobs?|shifts|hours|overtime|business|orders|customers|clients|contracts?|trade|tips|commission)\b[^.?!]{0,10}\b(?:dried up|slowed|gone quiet|went quiet|dropped off|fell off|fallen off|died off|been quiet)\b|\b(?:i|we) (?:got|get|been|was|were) paid (?:late|less)\b|\b(?:shifts?|hours) (?:were |was |got |have been )?(?:cut|reduced)|"
        r"\bfurlough|收入|工资|降薪|减薪|停薪|放无薪假",
    ),
    (
        "illness",
        r"\bhospital|\bsick\b|\bill\b|\billness|\bsurgery|\boperation\b|\binjur|\bdengue|\bcovid|"
        r"生病|住院|手术|病了",
    ),
    (
        "bereavement",
        r"\bfuneral|\bpassed away|\bdied\b|\bburial|\bwidow(?:ed|er)?\b|\bbereave|"
        r"\blost my (?:wife|husband|partner|mum|mom|mother|dad|father|son|daughter|brother|sister|baby|child|nan|gran|grandad|grandma)\b|去世|葬礼|过世|离世",
    ),
    ("family_emergency", r"\bfamily\b|\bkids?\b|\bchild|\bson\b|\bdaughter|\bmum\b|\bmom\b|\bdad\b|家里|孩子|家人"),
    (
        "unexpected_expense",
        r"\bhad to (?:pay|buy|replace|fix) (?:for |the |a |an |my )|\bvisa\b|\btax bill|\bbills?\b|\brepair|\bboiler|\bcar\b|\bvet\b|\bunexpected|\bexpense|意外|开支|修|坏了",
    ),
    (
        "forgot",
        r"\bforg[oe]t|\bslipped my mind|\bmissed the (?:date|email|reminder)|\bdidn'?t (?:see|notice)|"
        r"\bthought (?:i'?d|i had|i have|i did|it had|it was|it'?d|it would)\b[^.?!]{0,20}\b(?:paid|gone|come|taken|been)\b|"
        r"\bmy (?:mistake|bad)\b|\bmistake on my part|忘",
    ),
    (
        "payment_problem",
        r"\bdirect debit|\bstanding order|\bcard (?:declined|expired|stopped)|\bbank (?:error|issue|problem)|"
        r"\bsort code|\bpayment (?:failed|bounced|didn'?t go)|\b(?:it|dd|direct debit|payment) bounced\b|"
        r"\bpay ?day (?:changed|moved)|\b(?:pay|wage|salary) date (?:changed|moved)|"
        r"\b(?:bank|account|card)\b[^.?!]{0,25}\b(?:froze|frozen|locked|blocked|suspended)\b|\bfroze my (?:bank |card |account)|"
        r"扣款失败|银行卡|(?:银行卡|账户)(?:被)?(?:冻结|锁定)",
    ),
    (
        "over_indebted",
        r"\b(?:too many|other|\d+) (?:loans|debts|cards|credit cards)|\bin debt\b|\bdebts\b|"
        r"\bcan'?t pay (?:them )?all|\bpaying so many|网贷|好几个平台|欠了很多",
    ),
    (
        "other",  # short of money, in so many words: a reason, just not one of the above
        r"\bnot enough (?:money|funds|in (?:my|the))|\b(?:didn'?t|didnt|did not) have (?:enough|the money|the funds)|"
        r"\binsufficient funds|\bran out of (?:money|cash)|\bshort (?:of money|of cash|this month|that month|last month)|"
        r"\bmoney(?:'?s| is| was| has been| been) (?:tight|short)|\bskint\b|\bbroke\b|\bbad (?:month|patch|time)\b|"
        r"\bchristmas\b|\bxmas\b|\bspent too much|\boverspent|\brent (?:went|go(?:es)?) up|\bcost of (?:living|everything)|"
        r"\bprices (?:went|have gone|are going|gone) up|\beverything (?:is |'?s )?(?:so |too )?(?:expensive|dear)|"
        r"\b(?:no|zero|hardly any|barely any|little) (?:money|cash|funds)\b|\bstudent\b|钱不够|没钱|手头紧|钱(?:很|有点|比较)?紧|缺钱|周转不(?:开|过来)|入不敷出",
    ),
)
# At the reason question: why we ask ("为啥要问这个", "why do you need to know"), and the
# options asked for first ("有什么还款方案给我看看", "just show me my options").
_WHY_ASKED = re.compile(
    r"\bwhy (?:do|would|d) (?:you|u) (?:need|want|have) to (?:know|ask)|\bwhy (?:do|are) (?:you|u) ask(?:ing)?\b|"
    r"\bwhat(?:'?s| is| has) (?:that|it) (?:got )?to do with (?:you|u|anything)|\bwhy does (?:that|it) matter|"
    r"为(?:啥|什么|何)要?(?:问|知道)(?:这个|这些|这|我)?|问这(?:个|些)?(?:干(?:嘛|啥|什么)|做什么|有什么用)|关你(?:什么|啥)事",
    re.I,
)
_SHOW_OPTIONS = re.compile(
    r"\b(?:show|tell|give|send) (?:me )?(?:my |the |your |what |some )?(?:options|choices|plans|instal+ment options?)\b|"
    r"\bwhat(?:'?s| is| are) (?:the|my) options\b|\b(?:want|like|need) to (?:sort|set up|arrange|do|get) (?:out )?(?:a )?(?:payment plan|plan|instal+ments?)\b|"
    r"有(?:什么|哪些|啥)(?:还款)?(?:方案|办法|选项|选择|方式)|(?:方案|选项)(?:给我|发我|让我)看|看看(?:有什么|有哪些|有啥)?(?:还款)?(?:方案|选项)",
    re.I,
)
_REASON_RE = tuple((code, re.compile(pattern, re.I)) for code, pattern in _REASON_WORDS)
# Not a reason: a payment offer, a request for hardship, a settlement, a person or a payment claim.
_NOT_A_REASON = frozenset(
    {
        "choose_pay_now",
        "choose_promise_to_pay",
        "choose_plan",
        "offer_monthly_amount",
        "request_hardship",
        "ask_settlement",
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "inform",
        "smalltalk",
        "change_payment_date",
        "ask_next_payment",
        "ask_plan_remaining",
        "request_reminder",
        "decline_reminder",
        "go_back",
    }
)

# "I thought I had paid", "thought it went out": a mistake about paying, not a claim to have paid.
_THOUGHT_PAID = re.compile(
    r"\bthought (?:i'?d|i had|i have|i did|it had|it was|it'?d|it would)\b[^.?!]{0,20}\b(?:paid|gone|come|taken|been)\b|"
    r"\bmy (?:mistake|bad)\b|\bmistake on my part",
    re.I,
)
# Intents that offer to pay: at the reason question they win only with the words of an offer.
_PAYING = frozenset(
    {"choose_pay_now", "choose_promise_to_pay", "choose_plan", "offer_monthly_amount", "change_payment_date"}
)
# "can I clear it then", "ill pay it on friday", "let me pay 200 now": an offer to pay, in words.
_ASKS_TO_PAY = re.compile(
    r"\b(?:can|could|may|shall|cud) (?:i|we)\b|\b(?:i'?ll|ill|i will|i'?d|id|i would|i want to|i wanna|let me|happy to|i can|i could)"
    r"(?: \w+){0,2} (?:pay|clear|settle|do|manage|afford|set up|send|transfer)\b|\bplan\b|"
    r"\bpay (?:it|this|that|you|the \w+|now|today|tomorrow|by|on|in full)\b|\b(?:now|today|tomorrow|asap)\b",
    re.I,
)
# "why is it 900 overdue? i thought …", "how is it 3200??": the figures asked about first.
# "hardship plan instead", 换成困难方案: a hardship arrangement asked for in place of these terms (not
# "what is the hardship plan?", a question).
_HARDSHIP_INSTEAD = re.compile(
    r"^(?!\W*(?:what|how|why|is|are|does|do)\b)[^?]*\bhardship\b|(?:换成|改成|要|申请)困难(?:方案|帮扶|计划)",
    re.I,
)
# "要是晚几天还会怎样": a late payment supposed, asked about; not a later date asked for.
_SUPPOSING_ZH = re.compile(r"要是|如果|万一|假如")
# A question inside the message: "once i start paying, will my account ...?".
_STARTS_AS_QUESTION_ANYWHERE = re.compile(
    r"\b(?:will|would|does|do|is|are|can|could)\s+(?:my|the|this|it|that|i|you|there)\b", re.I
)

# 分期是只分这900还是3200全部都分啊, 这个每月75是从啥时候开始扣呢: asked (either-or, or when).
_ASKED_ZH = re.compile(
    r"是[^，。？?]{0,12}还是|(?:啥|什么)时候|几号(?:开始|扣)|哪天(?:开始|扣)|(?:吗|么)\s*还是|"
    r"(?:以后|之后|后面|中途)还?(?:能|可以)(?:不能)?(?:改|换|调)|哪(?:个|种)(?:方案|选项)?(?:最|更|比较)(?:划算|合适|好|省钱|便宜|省)|"
    r"还会[^，。？?]{0,12}(?:吗|么|嘛|[?？])\s*$|会怎(?:么)?样|(?:是)?(?:啥|什么)意思|"
    # 承诺还款是指什么, 这三个分期方案有啥区别, 那个minimum 30是什么条件才能用: what an option means
    r"是指什么|有(?:啥|什么)区别|区别(?:是|在)|(?:什么|啥)条件"
)
# "Dear Sir/Madam, I confirm the arrangement as stated.": a yes in a letter's words.
_YES_FORMAL = re.compile(
    r"\bi (?:hereby )?(?:confirm|accept|agree to) (?:the|this|your) (?:arrangement|plan|terms|agreement|proposal)\b",
    re.I,
)
# "3", "twelve": a plan's length alone, at the offers.
_BARE_MONTHS = re.compile(
    r"^\W*(?:(?:行|好|中|嗯|那就|就)\W*)?(\d{1,2}|three|six|nine|twelve|eighteen|twenty[- ]four|三|六|九|十二|仨)(?:期|个月)?\W*$",
    re.I,
)
# "lost my job last month. are you gonna add interest on top of this?", 车坏了，修车花了不少，逾期会上征信吗:
# a reason, then a question after it (a sentence of its own at the end).
_QUESTION_AFTER = re.compile(
    r"[.!;,]\s*(?:and |but |so |also )?(?:are|is|do|does|did|will|would|can|could|how|what|whats|when|why|where|who|am i|r u)\b[^.!?]*\?+\s*$|"
    r"[.!;,]\s*(?:is there|are there)\b[^.!?]*$|"
    r"[，。！；,.]\s*[^，。！；,.]*(?:吗|(?<![什怎这那多])么|呢)[？?]?\s*$|[，。！；,.]\s*[^，。！；,.]*[？?]\s*$",
    re.I,
)
# "when exactly was it due again?", "is there any help for people on benefits?", "can you break
# down how you got to 900": one question and nothing else, at the reason question (not a reason).
_ONE_QUESTION = re.compile(
    r"^\W*(?:(?:sir|madam|ma'?am|mate|hi|hello|excuse me|please|pls)\W+)?(?:when|what|whats|which|where|who|is there|are there|do i|does|will (?:you|it|this|i|that)|"
    r"(?:how|hw) (?:much|long|many|do|does|did|can|will|is))\b[^.!?]*\?\W*$|"
    r"^\W*(?:can|could) you (?:break|explain|tell|show|send|give)\b[^.!?]*$|^\W*(?:how|hw) (?:much|many|long)\b[^.!?,]*$",
    re.I,
)
_FIGURES_QUESTION = re.compile(
    r"^\W*(?:why|how|what)\b[^.?!]{0,40}\b(?:overdue|owe|owing|balance|amount|arrears|total|£?\d[\d,.]*|fees?|interest|charges?)\b[^.?!]{0,20}\?",
    re.I,
)
# Intents that say little at the reason question: a reason in words wins over them ("i forget").
_WEAK_AT_REASON = frozenset(
    {
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "inform",
        "smalltalk",
        "request_reminder",
        "decline_reminder",
        "go_back",
    }
)
# "I got paid late": their own wages, not a claim to have paid the loan.
_OWN_PAY = re.compile(
    r"\b(?:i|we) (?:got|get|been|was|were) paid (?:late|less|short)\b|\b(?:i|we) (?:didn'?t|did not|haven'?t|have not|wasn'?t|weren'?t) (?:get |been |being )?paid\b|"
    r"\b(?:work|employer|job|boss|company) (?:paid|pays|pay) (?:me |us )?(?:late|less)\b|\b(?:pay|wages?|salary|payday) (?:was|were|came|come) (?:in )?late\b",
    re.I,
)
# "Payment was made on the 3rd": a payment claimed in so many words (the claim form takes it).
_PAID_CLAIM = re.compile(
    r"(?<!if )(?<!when )\b(?:i(?:'ve| have)?|we(?:'ve| have)?) (?:already |just |actually )?(?:paid|sent|transferred|made (?:the|a|my|that) payment)\b|"
    r"\bpayment (?:was|has been|got|went) (?:made|sent|paid|through)\b|\b(?:already|allready|alredy) paid\b|\breceipt\b|"
    r"\bpaid (?:it|this|that|the \w+) (?:on|last|already|yesterday)\b",
    re.I,
)
# "i did pay?? it came out of my account", "Paid. ref number TX88213", "I paid cash at the post
# office": a payment claimed plainly, whatever the classifier leans to (the claim form asks
# when, how much and how before anything stops).
_PAID_PLAINLY = re.compile(
    r"\bi did pay\b|\b(?:it|the money|the payment|payment|the 900) (?:came|went|was taken) out of my (?:account|bank)\b|"
    r"^\W*paid\b(?:\W*(?:[.!]|$)| in full\b| (?:it|already|last|yesterday)\b)|"
    r"\bi (?:cleared|settled) (?:it|the (?:arrears|900|balance|overdue|amount))\b|\bi paid (?:cash|by|via|through|at|in full|it\b|the (?:900|full|whole|lot|arrears|amount|overdue))",
    re.I,
)
# "I was on an agreed payment holiday, nobody should be chasing me": the arrears themselves
# disputed (asked about first), not a reason for them.
_ARRANGED_ALREADY = re.compile(
    r"\b(?:agreed|arranged|approved|on an? agreed) (?:a )?payment (?:holiday|break|freeze)\b|"
    r"\bpayment (?:holiday|break|freeze) (?:was |that was )?(?:agreed|arranged|approved)\b|\b(?:nobody|no one|you) should(?:n'?t| not)? be chasing me\b",
    re.I,
)
# "my son paid it for me over the weekend": paid by someone close (a relative named is no reason here).
_PAID_BY_OTHER = re.compile(
    r"\b(?:my|our) (?:\w+ )?(?:son|daughter|wife|husband|partner|mum|mom|dad|father|mother|brother|sister) (?:has |already )?paid (?:it|this|that|the (?:900|arrears|overdue|balance|loan|amount|lot))\b",
    re.I,
)
# "is there any way to spread it out": a plan asked for, not a reason.
_SPREAD = re.compile(
    r"\bspread (?:it|them|this|the (?:payments?|cost|debt|balance|amount))? ?(?:out|over)\b|\bpay (?:it |this )?(?:in|by) (?:instalments|installments|bits|chunks)\b",
    re.I,
)
# "I get paid on the 28th", "my payday changed": when their money comes, a reason.
_PAYDAY_STORY = re.compile(
    r"\b(?:i|we) (?:get|am|'m|are) paid (?:on|after|at) (?:the )?(?:\d|end|last|first)|\bpay ?day (?:changed|moved|is after|was after)\b|"
    r"\b(?:pay|wage|salary) date (?:changed|moved)\b",
    re.I,
)
# "i only earn 900 a month now", "my rent went up 150 a month": a figure in the story of why.
_MONEY_STORY = re.compile(
    r"\b(?:i|we|he|she|my \w+) (?:only |now |just )?(?:earn|earns|make|makes|take home|takes home|bring in|brings in)\b|"
    r"\b(?:rent|mortgage|bills?|council tax|energy|gas|electric|childcare|nursery|costs?|prices)\b[^.?!]{0,20}\b(?:went|gone|go|going|goes) up\b|"
    r"\b(?:income|wages?|salary|pension|benefits?)\b[^.?!]{0,20}\b(?:cut|dropped|went down|gone down|reduced|less|only)\b",
    re.I,
)
# A death in the family in so many words ("recently widowed", "lost my husband"): a bereavement.
_BEREAVED = re.compile(
    r"\bwidow(?:ed|er)?\b|\bbereave|\bpassed away\b|"
    r"\blost my (?:wife|husband|partner|mum|mom|mother|dad|father|son|daughter|brother|sister|baby|child|nan|gran|grandad|grandma)\b|"
    r"去世|过世|离世",
    re.I,
)
# Words that say nothing of why ("erm ok", "not sure", "idk lol"), for _too_little.
_FILLER_WORDS = frozenset(
    [
        "erm",
        "umm",
        "hmm",
        "hmmm",
        "err",
        "okay",
        "yes",
        "yeah",
        "yep",
        "nope",
        "nah",
        "not",
        "sure",
        "idk",
        "dunno",
        "know",
        "lol",
        "haha",
        "the",
        "and",
        "but",
        "just",
        "what",
        "why",
        "really",
        "well",
        "like",
        "any",
        "you",
        "your",
        "this",
        "that",
        "there",
        "here",
        "don't",
        "dont",
        "can't",
        "cant",
        "sorry",
        "thanks",
        "ok",
    ]
)
_NOISE = re.compile(r"^(.)\1+$|^[^aeiouy]+$", re.I)  # "zzzz", "hmm", "xkcd"
_NOT_UNDERSTOOD = re.compile(
    r"\bconfus|\b(?:don'?t|dont|do not) (?:understand|get (?:it|what))|\bwhat do you mean|^\W*(?:what|huh|eh|sorry)\W*$|"
    r"不明白|不懂|什么意思|啥意思",
    re.I,
)
