"""Age, sex and collection date from a report's header text. Names are never read.

pypdf often prints header labels and their values on different lines (``Male`` then, ten lines
later, ``Gender``), so labelled forms are tried first and unlabelled fallbacks second: a
lone ``Male``/``Female`` line, ``30 Years``, and the earliest date on the page (collection comes
before reporting).
"""

from __future__ import annotations

import re
from datetime import date

from bloodq.analysis.model import Patient

_MONTHS = {m: i + 1 for i, m in enumerate(('jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct',
                                            'nov', 'dec'))}
_NUMERIC_DATE = re.compile(r'(?<![\d./-])(\d{4}|\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/])')
_NAMED_DATE = re.compile(
    r'(?<!\d)(\d{1,2})[\s\-/]([A-Za-z]{3,9})\.?[\s,\-/]+(\d{4}|\d{2})(?!\d)|([A-Za-z]{3,9})\.?\s(\d{1,2}),?\s(\d{4})'
)
_AGE_LABELLED = re.compile(
    r'\bage\b(?:\s*\([^)]{0,12}\))?(?:\s*/\s*(?:sex|gender))?\s*[:\-]?\s*(\d{1,3}(?:\.\d+)?)\s*(y(?:ea)?rs?|y|m(?:on)?ths?|mo|d(?:ays?)?)?\b',
    re.IGNORECASE,
)
_AGE_UNIT = re.compile(r'(?<![\d.])(\d{1,3})\s*(?:years?|yrs?|y)\b(?!\s*(?:ago|old\s+child))', re.IGNORECASE)
_SEX_LABELLED = re.compile(r'\b(?:sex|gender)\b\s*[:\-]?\s*(male|female|m|f)\b', re.IGNORECASE)
_SEX_SLASH = re.compile(r'\b\d{1,3}\s*(?:y(?:ea)?rs?|y)?\s*/\s*(male|female|m|f)\b', re.IGNORECASE)
_SEX_ALONE = re.compile(r'^\W*(male|female)\W*$', re.IGNORECASE | re.MULTILINE)
_SEX_WORD = re.compile(r'\b(male|female)\b(?!\s*[:\-]?\s*[\d<>])', re.IGNORECASE)
_COLLECT_LABEL = re.compile(r'collect|drawn|sample\s*date|specimen\s*date|registered|registration', re.IGNORECASE)
_DIGIT_SEP = re.compile(r'\d[/.\-\s]')
_SEX_AGE = re.compile(r'\b(?:sex|gender)\s*/\s*age\s*[:\-]?\s*(male|female|m|f)\b\s*/\s*(\d{1,3})\b', re.IGNORECASE)
_COLUMN_WORD = re.compile(r'\b(?:tests?|units?|ref(?:erence)?|range|interval|parameters?|investigations?|analytes?)\b',
                          re.IGNORECASE)
_DOB_LABEL = re.compile(r'\bd\.?o\.?b\b|birth', re.IGNORECASE)


def _ymd(day: int, month: int, year: int) -> date | None:
    if year < 100:
        year += 2000 if year < 70 else 1900
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _dates(text: str, month_first: bool) -> list[tuple[int, date]]:
    """(offset, date) for every date in ``text``."""
    out: list[tuple[int, date]] = []
    for m in _NUMERIC_DATE.finditer(text):
        a, b, c = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if len(m.group(1)) == 4:
            d = _ymd(c, b, a)
        elif month_first:
            d = _ymd(b, a, c)
        else:
            d = _ymd(a, b, c)
        if d is not None:
            out.append((m.start(), d))
    for m in _NAMED_DATE.finditer(text):
        if m.group(1):
            day, mon, year = m.group(1), m.group(2), m.group(3)
        else:
            mon, day, year = m.group(4), m.group(5), m.group(6)
        month = _MONTHS.get(mon[:3].lower())
        if month is not None:
            d = _ymd(int(day), month, int(year))
            if d is not None:
                out.append((m.start(), d))
    return out


def _month_first(text: str) -> bool:
    """True when the report's numeric dates are month/day.

    Decided by a date with a day above 12 in second place; when every date could be read either way
    (``02/10/2024``, ``02/11/2024``), by which reading puts the header's dates (collected, received,
    reported: days apart on any report) closer together, and day/month when that does not tell.
    """
    first_big = second_big = False
    for m in _NUMERIC_DATE.finditer(text):
        if len(m.group(1)) == 4:
            continue
        first_big |= int(m.group(1)) > 12
        second_big |= int(m.group(3)) > 12
    if first_big or second_big:
        return second_big and not first_big
    header = [line for line in text.splitlines() if not _DOB_LABEL.search(line)]
    spreads = []
    for month_first in (False, True):
        found = [d for line in header for _, d in _dates(line, month_first)]
        spreads.append((max(found) - min(found)).days if len(found) > 1 else 0)
    return spreads[1] < spreads[0]


def _collected(text: str, month_first: bool) -> str | None:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        label = _COLLECT_LABEL.search(line)
        if label is None:
            continue
        if _DOB_LABEL.search(line):
            # 'DOB: 01/02/1970 ... Collected: 12-Jan-2024' on one header line: only what follows the label
            after = line[label.end():]
            dob = _DOB_LABEL.search(after)
            found = _dates(after[:dob.start()] if dob else after, month_first)
            if found:
                return found[0][1].isoformat()
            continue
        found = _dates(line, month_first)
        if not found and i + 1 < len(lines) and not _DOB_LABEL.search(lines[i + 1]):
            found = _dates(lines[i + 1], month_first)  # the label's value printed on the next line
        if found:
            return found[0][1].isoformat()
    candidates = [d for line in lines if _DIGIT_SEP.search(line) and not _DOB_LABEL.search(line)
                  for _, d in _dates(line, month_first)]
    if not candidates:
        return None
    # the header's dates are collection, receipt and report: the earliest is the collection
    latest = max(candidates)
    recent = [d for d in candidates if (latest - d).days <= 366]
    return min(recent).isoformat()


def _age_from_dob(text: str, collected: str | None, month_first: bool) -> float | None:
    """Whole years between a printed date of birth and the collection date (US reports print only the DOB)."""
    if collected is None:
        return None
    for line in text.splitlines():
        if not _DOB_LABEL.search(line):
            continue
        m = _DOB_LABEL.search(line)
        found = _dates(line[m.end():] if m else line, month_first)
        if found:
            born, on = found[0][1], date.fromisoformat(collected)
            years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
            return float(years) if 0 <= years < 130 else None
    return None


def _age(text: str) -> float | None:
    m = _SEX_AGE.search(text)
    if m:
        return float(m.group(2)) if int(m.group(2)) < 130 else None
    m = _AGE_LABELLED.search(text)
    if m:
        value = float(m.group(1))
        unit = (m.group(2) or 'y').lower()
        if unit.startswith('m'):
            value /= 12
        elif unit.startswith('d'):
            value /= 365
        return value if 0 <= value < 130 else None
    m = _AGE_UNIT.search(text)
    if m and int(m.group(1)) < 130:
        return float(m.group(1))
    return None


def _sex(text: str) -> str | None:
    for pattern in (_SEX_AGE, _SEX_LABELLED, _SEX_SLASH, _SEX_ALONE, _SEX_WORD):
        m = pattern.search(text)
        if m:
            return 'male' if m.group(1).lower().startswith('m') else 'female'
    return None


def date_columns(line: str, month_first: bool) -> tuple[int, int] | None:
    """A cumulative table's header (``Test 14/03/24 02/01/24 Units Reference``): (dates, index of the latest)."""
    if _COLUMN_WORD.search(line) is None or _COLLECT_LABEL.search(line):
        return None
    found = [d for _, d in sorted(_dates(line, month_first))]
    return (len(found), found.index(max(found))) if len(found) >= 2 else None


def report_month_first(pages: list[str]) -> bool:
    """Whether the report's numeric dates read month/day (see :func:`parse_patient`)."""
    return _month_first('\n'.join('\n'.join(pages[:2]).splitlines()[:80]))


def parse_patient(pages: list[str]) -> Patient:
    """Age, sex and ISO collection date printed on the first pages of a report."""
    text = '\n'.join(pages[:2])
    head = '\n'.join(text.splitlines()[:80])
    sex = _sex(head)
    month_first = _month_first(head)
    collected = _collected(head, month_first)
    age = _age(head)
    return Patient(
        age=age if age is not None else _age_from_dob(head, collected, month_first),
        sex='male' if sex == 'male' else 'female' if sex == 'female' else None,
        collected=collected,
    )
