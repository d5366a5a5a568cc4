"""Chinese numerals in a message ('五百', '5百', '1千5'), read by cn2an."""

from __future__ import annotations

import re

import cn2an

from ._common import _quiet

# A run of Chinese numerals, possibly mixed with digits ('五百', '5百', '1千5').
# Digits belong to the run only before a multiplier: in '200一个月' (200 a month) or
# '500两期' they are a number of their own. A lone 一 is a number only before a unit:
# not in 一半 (half), 一下, 一点, 一次性, 一起. 万一 ("in case") is not a number.
# '1.5百' (150) and '一点五百' (a decimal before a multiplier) are one number too, and the
# formal numerals (壹佰伍拾, 陆期).
_CJK_NUMBER_RE = re.compile(
    r"[0-9]+\.[0-9]+[百千万]|"
    r"[一二两三四五六七八九]点[一二三四五六七八九][百千万]|"
    r"(?:(?<![0-9.])[0-9]+(?=[十百千万拾佰仟]))?[零〇一二两三四五六七八九十百千万壹贰叁肆伍陆柒捌玖拾佰仟]"
    r"[0-9零〇一二两三四五六七八九十百千万壹贰叁肆伍陆柒捌玖拾佰仟]*"
)
_DIGIT_OF = dict(zip("一二两三四五六七八九", "1223456789", strict=True))
_CJK_UNITS = "元块圆期个月年号日天周岁"


# 五百一个月, 一百五一期: after hundreds the 一 before 个月 / 个星期 / 期 is "a" (500 a month),
# not 510 or 151 (十一个月 and 二十一期 stay eleven and twenty-one).
_A_PERIOD_AFTER = re.compile(r"个月|个?(?:星期|礼拜|周)|期")


def _cjk_number(match: re.Match[str]) -> str:
    run, after = match.group(0), match.string[match.end() : match.end() + 1]
    if (run == "一" and after not in _CJK_UNITS) or run.startswith("万"):
        return run
    if re.search(r"[百千万佰仟]", run[:-1]) and run.endswith("一") and _A_PERIOD_AFTER.match(match.string, match.end()):
        number = _CJK_NUMBER_RE.fullmatch(run[:-1])
        head = _cjk_number(number) if number else run[:-1]
        return f"{head} 1" if head != run[:-1] else run
    if "点" in run:  # 一点五百 -> 1.5百, which cn2an reads
        run = f"{_DIGIT_OF[run[0]]}.{_DIGIT_OF[run[2]]}{run[3]}"
    value = _quiet(cn2an.cn2an, run, "smart")
    if not (isinstance(value, (int, float)) and value == int(value)):
        return run
    # Kept apart from digits just before it: '200一个月' -> '200 1个月', not '2001个月'.
    start = match.start()
    gap = " " if start and (match.string[start - 1].isdigit() or match.string[start - 1] in "十百千万") else ""
    return f"{gap}{int(value)}"
