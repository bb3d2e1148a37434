"""Page-level facts the parser needs before reading lines: number format and repeated letterhead."""

from __future__ import annotations

import re
from collections import Counter

from bloodq.analysis import catalogue
from bloodq.analysis.lines import LineInfo, analyse
from bloodq.analysis.textkinds import QUAL_LINE, is_admin

__all__ = ['boilerplate', 'uses_decimal_comma']

_EU_RANGE = re.compile(r'(?<![\d,.])\d+,\d{1,2}\s*[-–]\s*\d+,\d{1,2}(?![\d,])')
# starts with the literal ',' so re scans for it in C (a leading \d made it try every digit: 0.2 ms a report)
_EU_HINT = re.compile(r',(?<=\d,)\d{1,2}\s*[-–]')
# '150.000 - 400.000' may be thousands in a decimal-comma report, so 3-digit decimals are no evidence
_US_RANGE = re.compile(r'(?<![\d,.])\d+\.(?:\d\d?|\d{4,})\s*[-–]\s*\d+\.(?:\d\d?|\d{4,})(?![\d.])')


def _result_like(info: LineInfo) -> bool:
    """A data line ('0.00', 'Nil', '4.8 thou/mm3 2.0 - 7.0'), not a letterhead line ('18, ROHINI', dates, lab numbers)."""
    if any(t.kind in ('date', 'time') or (t.kind == 'num' and len(t.text) >= 6 and t.text.isdigit())
           for t in info.tokens):
        return False
    return bool(info.loose.values) or any(g.quals or (g.values and (g.units or g.ranges)) for g in info.groups)


def uses_decimal_comma(text: str) -> bool:
    """Whether the report writes decimals with a comma (more '13,5 - 17,5' ranges than '13.5 - 17.5' ones)."""
    eu = len(_EU_RANGE.findall(text)) if _EU_HINT.search(text) else 0
    return eu > 0 and eu > len(_US_RANGE.findall(text))


def boilerplate(pages: list[list[str]]) -> set[str]:
    """Lines repeated on most pages (letterhead, patient block, footers), except possible result lines."""
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update(set(lines))
    need = max(2, (len(pages) + 1) // 2)
    out: set[str] = set()
    for line, n in counts.items():
        if n < need or not line:
            continue
        if not any(ch.isdigit() for ch in line) and (catalogue.lookup_all(line) or catalogue.lookup_qualitative(line)):
            continue  # a test name printed on a line of its own on several pages
        if QUAL_LINE.match(line):
            continue  # 'Nil' under two different urine tests
        if any(ch.isdigit() for ch in line) and not is_admin(line) and _result_like(analyse(line)):
            continue  # a data line can repeat ('0.00' under two tests)
        out.add(line)
    return out
