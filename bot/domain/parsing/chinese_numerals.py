"""Chinese numerals in a message ('五百', '5百', '1千5'), read by cn2an."""

from __future__ import annotations

import re

import cn2an

from ._common import _quiet

# A run of Chinese numerals, possibly mixed with digits ('五百', '5百', '1千5').
# A lone 一 is a number only before a unit: not in 一半 (half), 一下, 一点,
# 一次性, 一起. 万一 ("in case") is not a number.
_CJK_NUMBER_RE = re.compile(r"[0-9]*[零〇一二两三四五六七八九十百千万][0-9零〇一二两三四五六七八九十百千万]*")
_CJK_UNITS = "元块圆期个月年号日天周岁"


def _cjk_number(match: re.Match[str]) -> str:
    run, after = match.group(0), match.string[match.end() : match.end() + 1]
    if (run == "一" and after not in _CJK_UNITS) or run.startswith("万"):
        return run
    value = _quiet(cn2an.cn2an, run, "smart")
    return str(int(value)) if isinstance(value, (int, float)) and value == int(value) else run
