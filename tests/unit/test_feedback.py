"""The feedback question (issue 14 §5): how an answer is read in English and Chinese,
when it counts as an answer, when the question may be asked, and the report's figures."""

from __future__ import annotations

import pytest

from bot.domain import feedback
from bot.domain.feedback import NOT_AN_ANSWER, OUT_OF_RANGE, RATING, SKIP, answers_question, may_ask, read_answer
from bot.services.feedback import FeedbackRow, feedback_figures, render_feedback


@pytest.mark.parametrize(
    ("text", "rating", "comment"),
    [
        ("5", 5, None),
        ("1", 1, None),
        (" 3 ", 3, None),
        ("4 stars", 4, None),
        ("5 Stars!", 5, None),
        ("4/5", 4, None),
        ("4 / 5", 4, None),
        ("4 out of 5", 4, None),
        ("5 of 5", 5, None),
        ("five", 5, None),
        ("Two.", 2, None),
        ("I'd give it a 4", 4, None),
        ("I would rate you 3", 3, None),
        ("rating: 4", 4, None),
        ("★★★★", 4, None),
        ("⭐⭐⭐⭐⭐ great", 5, "great"),
        ("4, quick and easy", 4, "quick and easy"),
        ("3 - the buttons were confusing", 3, "the buttons were confusing"),
        ("4 great", 4, "great"),
        ("5 thanks", 5, None),  # a pleasantry is no comment
        ("5, thank you!", 5, None),
        ("５", 5, None),  # full-width
        ("+5", 5, None),
        # Chinese
        ("五", 5, None),
        ("一", 1, None),
        ("两分", 2, None),
        ("5分", 5, None),
        ("5 分", 5, None),
        ("四星", 4, None),
        ("五星好评！", 5, None),
        ("打五分", 5, None),
        ("给你4分", 4, None),
        ("我给5分", 5, None),
        ("三分，还可以", 3, "还可以"),
        ("五分，很方便", 5, "很方便"),
        ("5很好", 5, "很好"),
        ("五分。服务很好", 5, "服务很好"),
    ],
)
def test_ratings_are_read_with_their_comment(text, rating, comment):
    assert read_answer(text) == feedback.FeedbackAnswer(RATING, rating, comment)


@pytest.mark.parametrize(
    "text",
    ["skip", "Skip", "skip it", "no thanks", "No thank you.", "not now", "rather not", "I'll pass", "skip, thanks"]
    + ["不用了", "不用了，谢谢", "跳过", "算了", "不评了", "下次吧", "以后再说"],
)
def test_skips(text):
    assert read_answer(text).kind == SKIP


@pytest.mark.parametrize(
    "text",
    ["7", "0", "-1", "6 stars", "10/10", "8/10", "4.5", "3,5", "ten", "zero", "六分", "十", "★★★★★★"],
)
def test_numbers_outside_the_scale_are_not_ratings(text):
    answer = read_answer(text)
    assert answer.kind == OUT_OF_RANGE and answer.rating is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "no",  # "no, nothing else": goes on as normal (a goodbye)
        "thanks",
        "bye",
        "👍",
        "😀",
        "🙏🙏",
        "when is my next payment?",
        "5 - why did that take so long?",  # a question is answered, not filed
        "5 months",
        "3 a week",
        "1 June",
        "5th",
        "one question",
        "1 of them",
        "99999999",  # a long number: not a rating, never repeated
        "4111 1111 1111 1111",
        "I want to end it all, 1",  # crisis language is never a rating
        "3 I can't cope any more",
        "6个月",
        "15号",
        "五百块",
        "五分钟",
        "十分满意",  # "very satisfied": no figure given
        "一下",
        "一般",
        "谢谢",
        "x" * 5000,
        "5 " + "great " * 400,  # over MAX_ANSWER_CHARS
    ],
)
def test_anything_else_is_not_an_answer(text):
    assert read_answer(text).kind == NOT_AN_ANSWER


def test_a_long_comment_is_cut_and_personal_data_is_left_for_the_store_to_mask():
    answer = read_answer("4, " + "a" * 900)
    assert answer.kind == RATING and len(answer.comment or "") == feedback.MAX_COMMENT_CHARS


def test_an_answer_only_counts_after_the_question_and_a_bad_number_only_once():
    assert answers_question("5", feedback.ASKED)
    assert answers_question("skip", feedback.ASKED_AGAIN)
    assert not answers_question("5", None)  # the last reply did not ask
    assert not answers_question("5", "offers")
    assert answers_question("7", feedback.ASKED)  # answered with the scale
    assert not answers_question("7", feedback.ASKED_AGAIN)  # then it goes on as normal
    assert not answers_question("when is my next payment?", feedback.ASKED)


def test_words_after_a_rating_that_ask_for_something_are_that_request():
    person = [("request_human", 0.92), ("affirm", 0.03)]
    assert not answers_question("1, let me talk to a person", feedback.ASKED, person)
    assert not answers_question("2 cancel my plan", feedback.ASKED, [("cancel_plan", 0.8)])
    assert not answers_question("3 how does this affect my credit", feedback.ASKED, [("ask_credit_impact", 0.7)])
    assert answers_question("1", feedback.ASKED, person)  # no words: a rating whatever the classifier says
    assert answers_question("4, quick and easy", feedback.ASKED, [("request_human", 0.3)])  # not sure
    assert answers_question("4, quick and easy", feedback.ASKED, [("thank", 0.9)])


def test_a_lean_to_a_disclosure_without_its_words_is_a_comment():
    leaning = [("disclose_vulnerability", 0.68), ("reason_other", 0.18)]
    assert answers_question("五分，很方便", feedback.ASKED, leaning)
    assert answers_question("5, made it easy", feedback.ASKED, leaning)
    assert not answers_question("2, my depression makes all this hard", feedback.ASKED, leaning)
    assert not answers_question("两分，我最近抑郁很严重", feedback.ASKED, leaning)


BASE = dict(
    enabled=True,
    verified=True,
    resolved_kind="instalment_plan",
    already_asked=False,
    collection_stopped=False,
    vulnerable=False,
    crisis_in_conversation=False,
)


def test_when_the_question_may_be_asked():
    assert may_ask(**BASE)
    for kind in ("pay_now", "promise_to_pay", "instalment_plan", "hardship_deferral", "settlement", "amended"):
        assert may_ask(**{**BASE, "resolved_kind": kind})
    for change in (
        {"enabled": False},
        {"verified": False},
        {"resolved_kind": "cancelled"},
        {"resolved_kind": None},
        {"already_asked": True},
        {"collection_stopped": True},
        {"vulnerable": True},
        {"crisis_in_conversation": True},
    ):
        assert not may_ask(**{**BASE, **change}), change


def test_report_figures_by_channel_and_language():
    rows = [
        FeedbackRow("rated", 5, "twilio", "en", has_comment=True),
        FeedbackRow("rated", 4, "twilio", "en"),
        FeedbackRow("rated", 2, "socketio", "zh"),
        FeedbackRow("skipped", None, "socketio", "zh"),
        FeedbackRow("asked", None, None, "en"),
    ]
    figures = feedback_figures(rows)
    assert figures["asked"] == 5 and figures["rated"] == 3 and figures["skipped"] == 1
    assert figures["unanswered"] == 1 and figures["with_comment"] == 1
    assert figures["response_rate"] == 0.6 and figures["skip_rate"] == 0.2
    assert figures["average"] == 3.67
    assert figures["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert figures["by_channel"]["twilio"] == {
        "asked": 2,
        "rated": 2,
        "skipped": 0,
        "unanswered": 0,
        "response_rate": 1.0,
        "average": 4.5,
    }
    assert figures["by_channel"]["unknown"]["unanswered"] == 1
    assert figures["by_language"]["zh"]["average"] == 2.0 and figures["by_language"]["zh"]["response_rate"] == 0.5
    text = "\n".join(render_feedback(figures))
    assert "Borrower feedback (5 asked)" in text
    assert "rated 3 (60%), skipped 1, unanswered 1; average 3.67 of 5; 1 with a comment" in text
    assert "ratings: 1: 0, 2: 1, 3: 0, 4: 1, 5: 1" in text
    assert "by language: en 2/3 rated, average 4.50; zh 1/2 rated, average 2.00" in text


def test_no_questions_no_figures():
    figures = feedback_figures([])
    assert figures["asked"] == 0 and figures["average"] is None and figures["response_rate"] is None
    assert figures["distribution"] == {str(n): 0 for n in range(1, 6)}
    assert "average - of 5" in "\n".join(render_feedback(figures))
