"""Chinese numerals in a message ('五百', '5百', '1千5'), read by cn2an."""

from __future__ import annotations

import re

import cn2an

from ._common import _quiet

# A run of Chinese numerals, possibly mixed with digits ('五百', '5百', '1千5').
# Digits belong to the run only before a multiplier: in '200一个月' (200 a month) or
# '500两期' they are a number of their own. A lone 一 is a number only before a unit:
# not in 一半 (half), 一下, 一点, 一次性, 一起. 万一 ("in case") is not a number.
_CJK_NUMBER_RE = re.compile(
    r"(?:[0-9]+(?=[十百千万]))?[零〇一二两三四五六七八九十百千万][0-9零〇一二两三四五六七八九十百千万]*"
)
_CJK_UNITS = "元块圆期个月年号日天周岁"


def _cjk_number(match: re.Match[str]) -> str:
    run, after = match.group(0), match.string[match.end() : match.end() + 1]
    if (run == "一" and after not in _CJK_UNITS) or run.startswith("万"):
        return run
    value = _quiet(cn2an.cn2an, run, "smart")
    if not (isinstance(value, (int, float)) and value == int(value)):
        return run
    # Kept apart from digits just before it: '200一个月' -> '200 1个月', not '2001个月'.
    start = match.start()
    gap = " " if start and match.string[start - 1].isdigit() else ""
    return f"{gap}{int(value)}"
