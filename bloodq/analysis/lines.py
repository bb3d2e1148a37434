"""One printed line -> typed tokens -> candidate result groups.

A line is tokenised by one compiled regex into dates, times, ranges, units, numbers, words and
punctuation; words then become names, flags (``H``/``L`` beside a value) or qualitative values
(``Negative``). A *group* is one name with the values, units and ranges around it; most lines
hold zero or one group, two-column layouts hold several. Nothing here decides whether a group is
a real result: :mod:`bloodq.analysis.parser` does that with the catalogue and the lines around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from bloodq.analysis.textkinds import words
from bloodq.analysis.unitlex import UNIT_PATTERN

_MONTH = r'(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?'
_DATE = (
    r'(?<![\d.])(?:\d{1,2}(?P<dsep>[/.\-])\d{1,2}(?P=dsep)\d{2,4}|\d{4}-\d{1,2}-\d{1,2}'
    r'|\d{1,2}[\s\-]' + _MONTH + r'[\s,\-]+\d{2,4}|' + _MONTH + r'\s\d{1,2},?\s\d{4})(?![\d])'
)
_TIME = r'(?<![\d.])\d{1,2}:\d{2}(?::\d{2})?(?:\s?[apAP]\.?[mM]\.?)?'
_SEP = r'\s*(?:-|–|—|‐|−|~|\b[tT][oO]\b)\s*'
_OP = r'(?i:<\s*or\s*=|>\s*or\s*=|<=|>=|=<|=>|≤|≥|<|>|＜|＞|\bup\s?to\b|\bless\s+than\b|\bmore\s+than\b|\bgreater\s+than\b|\bbelow\b|\babove\b)'


# a unit has a '/' within a few characters, starts with 'x 10', or is one of the few standalone units
_UNIT_GUARD = r'(?=[^/\s]{0,12}\s?/|[xX×]\s?10|%|(?i:fl|pg|secs?|seconds|iu|mg\s?%|gms?\s?%|g\s?%|mm/)(?![a-z]))'


def _num(decimal_comma: bool) -> str:
    if decimal_comma:
        return r'(?:\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?)'
    # ``2,50,000`` (Indian) and ``150,000`` group thousands; ``1,25`` is two numbers
    return r'(?:\d{1,3}(?:,\d\d)*,\d{3}(?![\d,])(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)'


@lru_cache(maxsize=2)
def _token_re(decimal_comma: bool) -> re.Pattern[str]:
    n = _num(decimal_comma)
    return re.compile(
        # the lookahead guards only skip alternatives that cannot start here: they keep this fast; the
        # leading \s* steps over spaces in one go (every alternative would be tried and fail at each one)
        r'\s*(?:(?P<date>(?=\d|' + _MONTH + r'\s\d)' + _DATE + r')'
        r'|(?P<time>(?=\d)' + _TIME + r')'
        r'|(?P<range>(?=[(\[\d.<>≤≥＜＞=]|(?i:up|less|more|greater|below|above))'
        r'(?:[(\[]?\s*(?P<lo>' + n + r')' + _SEP + r'(?P<hi>' + n + r')(?!\d)\s*[)\]]?'
        r'|[(\[]?\s*(?P<op>' + _OP + r')\s*(?P<one>' + n + r')(?!\d)\s*[)\]]?))'
        r'|(?P<unit>' + _UNIT_GUARD + r'(?i:' + UNIT_PATTERN + r'))'
        r'|(?P<num>' + n + r')'
        r'|(?P<word>[^\W\d_][\w\'’]*)'
        r'|(?P<punct>[^\w\s]))'
    )


_DOT_THOUSANDS = re.compile(r'\d{1,3}(?:\.\d{3})+(?:,\d+)?')


def to_float(text: str, decimal_comma: bool = False) -> float:
    """Parse a printed number (``2,50,000``, ``13.5``; ``13,5`` with ``decimal_comma``)."""
    if decimal_comma:
        if _DOT_THOUSANDS.fullmatch(text):
            text = text.replace('.', '')  # '250.000' is two hundred and fifty thousand there
        return float(text.replace(',', '.'))
    return float(text.replace(',', ''))


@dataclass(slots=True)
class Tok:
    """A token: ``kind`` is date, time, range, unit, num, word, punct, flag or qual."""

    kind: str
    text: str
    start: int
    end: int
    value: float = 0.0
    lo: float | None = None
    hi: float | None = None
    op: str = ''  #: for one-sided ranges: '<' or '>'
    sex: str = ''  #: for ranges labelled ``Male:`` / ``Female:``


_FLAG_WORDS = frozenset({'h', 'l', 'hh', 'll', 'high', 'low', 'critical', 'abnormal', 'abn', 'crit', 'hi', 'lo'})
_QUAL_RE = re.compile(
    r'\b(?:non[\s\-]?reactive|weakly\s+reactive|reactive|not\s+detected|detected|negative|positive|nil|absent|'
    r'present|trace|(?:pale|light|dark|straw)\s+yellow|straw|yellow|amber|colou?rless|clear|'
    r'slightly\s+(?:turbid|hazy|cloudy)|turbid|hazy|cloudy|occasional|plenty|numerous|few|rare|normal|'
    r'G[1-5][ab]?)\b(?:\s*\(?[+]{1,4}\)?)?',
    re.IGNORECASE,
)
# A qualitative value glued before the name, as pypdf prints some reports: ``G1GFR Category``.
_GLUED_QUAL_RE = re.compile(r'^(G[1-5][ab]?|Negative|Positive|Reactive|Nil|Absent|Present)(?=[A-Z][a-z]{2}|[A-Z]{3})')
_TRAILING_DIGITS_RE = re.compile(r'\d+$')
_SEX_LABELS = {'m': 'male', 'male': 'male', 'men': 'male', 'f': 'female', 'female': 'female', 'women': 'female'}
_ONE_SIDED = {'< or =': '<', '<or=': '<', '> or =': '>', '>or=': '>', '<': '<', '<=': '<', '=<': '<', '≤': '<', '＜': '<', 'below': '<', 'less than': '<', 'up to': '<',
              'upto': '<', '>': '>', '>=': '>', '=>': '>', '≥': '>', '＞': '>', 'above': '>', 'more than': '>',
              'greater than': '>'}


def tokenise(text: str, decimal_comma: bool = False) -> list[Tok]:
    """Split a line into typed tokens (see :class:`Tok`)."""
    out: list[Tok] = []
    for m in _token_re(decimal_comma).finditer(text):
        kind = m.lastgroup or 'punct'
        tok = Tok(kind, m.group(kind), *m.span(kind))
        if kind == 'range':
            if m.group('lo') is not None:
                tok.lo, tok.hi = to_float(m.group('lo'), decimal_comma), to_float(m.group('hi'), decimal_comma)
                if tok.lo > tok.hi:  # '19-9' in 'CA 19-9' or a phone number: not a range
                    out.extend(_split_bad_range(tok, m, decimal_comma))
                    continue
            else:
                op = _ONE_SIDED.get(' '.join(m.group('op').lower().split()), '<')
                tok.op = op
                bound = to_float(m.group('one'), decimal_comma)
                tok.lo, tok.hi = (None, bound) if op == '<' else (bound, None)
        elif kind == 'num':
            tok.value = to_float(tok.text, decimal_comma)
        elif kind == 'word':
            g = _GLUED_QUAL_RE.match(tok.text) if tok.text[0] in 'GNPRA' else None
            if g:
                cut = tok.start + g.end()
                out.append(Tok('qual', g.group(0), tok.start, cut))
                tok = Tok('word', text[cut:tok.end], cut, tok.end)
            elif text[tok.end:tok.end + 1] == '.' and text[tok.end + 1:tok.end + 2].isdigit():
                # 'Hemoglobin15.0': the value glued to the name (a name never ends in a decimal number)
                d = _TRAILING_DIGITS_RE.search(tok.text)
                if d and d.start() >= 2:
                    cut = tok.start + d.start()
                    out.append(Tok('word', text[tok.start:cut], tok.start, cut))
                    tok = Tok('glued', '', cut, tok.end)
        elif kind == 'punct' and tok.text == '+' and out and out[-1].end == tok.start:
            prev = out[-1]
            if (prev.kind == 'num' and prev.text.isdigit() and len(prev.text) == 1) or prev.text.endswith('+'):
                # semi-quantitative urine results: '2+', '+++'
                out[-1] = Tok('qual', prev.text + '+', prev.start, tok.end)
                continue
        out.append(tok)
    return _join_glued(out, text, decimal_comma)


def _join_glued(toks: list[Tok], text: str, decimal_comma: bool) -> list[Tok]:
    """Merge a 'glued' digit stub with the number after it ('Hemoglobin15' + '.0' -> 'Hemoglobin', '15.0')."""
    if not any(t.kind == 'glued' for t in toks):
        return toks
    out: list[Tok] = []
    for i, t in enumerate(toks):
        if t.kind == 'glued':
            continue
        if i and toks[i - 1].kind == 'glued' and t.kind == 'num':
            start = toks[i - 1].start
            t = Tok('num', text[start:t.end], start, t.end, to_float(text[start:t.end], decimal_comma))
        out.append(t)
    return out


def _split_bad_range(tok: Tok, m: re.Match[str], decimal_comma: bool) -> list[Tok]:
    lo_s, hi_s = m.start('lo'), m.start('hi')
    return [
        Tok('num', m.group('lo'), lo_s, m.end('lo'), to_float(m.group('lo'), decimal_comma)),
        Tok('punct', '-', m.end('lo'), hi_s),
        Tok('num', m.group('hi'), hi_s, m.end('hi'), to_float(m.group('hi'), decimal_comma)),
    ]


@dataclass(slots=True)
class Group:
    """One name with what surrounds it on the line."""

    name: str = ''
    name_start: int = -1
    values: list[Tok] = field(default_factory=list)
    ranges: list[Tok] = field(default_factory=list)
    units: list[Tok] = field(default_factory=list)
    flags: list[Tok] = field(default_factory=list)
    quals: list[Tok] = field(default_factory=list)
    value_first: bool = False  #: the value was printed before the name (``0.90Creatinine``)
    trailing: str = ''  #: words printed after the values (``or higher``, ``Not Estab.``)
    alt_name: str = ''  #: the name if a leading number belongs to it (``25 Hydroxy Vitamin D``)


@dataclass(slots=True)
class LineInfo:
    """A line's tokens and the groups found in it."""

    text: str
    tokens: list[Tok]
    groups: list[Group]
    loose: Group  #: values/ranges/units outside any named group (a data or continuation line)


# the words a qualitative result can start with: a line with none of them skips the (slow) _QUAL_RE scan
_QUAL_STARTS = frozenset([
    'non', 'nonreactive', 'weakly', 'reactive', 'not', 'detected', 'negative', 'positive', 'nil', 'absent',
    'present', 'trace', 'pale', 'light', 'dark', 'straw', 'yellow', 'amber', 'colourless', 'colorless', 'clear',
    'slightly', 'turbid', 'hazy', 'cloudy', 'occasional', 'plenty', 'numerous', 'few', 'rare', 'normal',
])
_STAGE_RE = re.compile(r'G[1-5]')


def _may_hold_qual(text: str) -> bool:
    return not _QUAL_STARTS.isdisjoint(words(text)) or _STAGE_RE.search(text) is not None


def _mark_quals(text: str, toks: list[Tok]) -> None:
    """Turn words that spell a qualitative result into one ``qual`` token, when a name precedes them."""
    first_word = next((t for t in toks if t.kind == 'word'), None)
    if first_word is None or not _may_hold_qual(text):
        return
    for m in _QUAL_RE.finditer(text, first_word.end):
        inside = [t for t in toks if t.start >= m.start() and t.end <= m.end() and t.kind in ('word', 'punct')]
        if not inside or inside[0].start != m.start():
            continue
        after = next((t for t in toks if t.start >= m.end()), None)
        if after is not None and after.kind == 'word' and not _QUAL_RE.match(text, after.start):
            continue  # 'C Reactive Protein', 'Positive Predictive ...': part of a name
        for t in inside:
            t.kind = 'skip'
        inside[0].kind, inside[0].text, inside[0].end = 'qual', m.group(0), m.end()


def _is_flag(t: Tok, prev: str) -> bool:
    if t.kind == 'word':
        return t.text.lower() in _FLAG_WORDS and prev in ('num', 'unit', 'flag')
    return t.kind == 'punct' and t.text in '*↑↓' and prev == 'num'


def _mark_flags(toks: list[Tok]) -> None:
    """``H``/``L``/``High``/``*``/arrows right after a value (or its unit) are lab flags, not names."""
    prev = ''
    for i, t in enumerate(toks):
        if _is_flag(t, prev):
            t.kind = 'flag'
        elif t.kind == 'punct' and t.text == '(' and i + 2 < len(toks) and prev == 'num':
            inner, close = toks[i + 1], toks[i + 2]
            if inner.kind == 'word' and inner.text.lower() in _FLAG_WORDS and close.text == ')':
                inner.kind = 'flag'
                t.kind = close.kind = 'skip'
                prev = 'flag'
                continue
        if t.kind not in ('skip', 'punct'):
            prev = t.kind


def _mark_range_sex(toks: list[Tok]) -> None:
    for i, t in enumerate(toks):
        if t.kind != 'range':
            continue
        j = i - 1
        while j >= 0 and toks[j].kind == 'punct' and toks[j].text in ':-()':
            j -= 1
        if j >= 0 and toks[j].kind in ('word', 'flag'):
            sex = _SEX_LABELS.get(toks[j].text.lower())
            if sex:
                t.sex = sex
                toks[j].kind = 'skip'


def _name_runs(toks: list[Tok]) -> list[tuple[int, int]]:
    """Index spans [i, j) of name runs: words, punctuation, and numbers wedged between words."""
    runs: list[tuple[int, int]] = []
    i, n = 0, len(toks)
    while i < n:
        opens = toks[i].text == '(' and i + 1 < n and toks[i + 1].kind == 'word'
        if toks[i].kind != 'word' and not opens:
            i += 1
            continue
        j = i + 1
        depth = 1 if opens else 0
        while j < n:
            t = toks[j]
            if t.kind == 'word':
                j += 1
            elif t.kind == 'punct' and t.text not in '|*':
                if t.text == '(':
                    depth += 1
                elif t.text == ')':
                    depth = max(0, depth - 1)
                j += 1
            elif t.kind == 'skip':
                j += 1
            elif depth > 0 and t.kind in ('num', 'range', 'date', 'time'):
                j += 1  # '(KDIGO Guideline 2012)', '(>=18 years)' belong to the name
            elif t.kind == 'num' and t.text.isdigit() and _next_is_word(toks, j + 1):
                j += 1  # 'Vitamin D 25 OH'; a decimal number is never part of a name ...
            elif t.kind == 'num' and j + 1 < n and toks[j + 1].text.lower() in ('square', 'sq'):
                j += 1  # ... except the body surface in 'eGFR ... per 1.73 square metres'
            else:
                break
        while j > i + 1 and toks[j - 1].kind == 'punct' and toks[j - 1].text not in ')%#':
            j -= 1
        runs.append((i, j))
        i = j
    return runs


def _next_is_word(toks: list[Tok], k: int) -> bool:
    while k < len(toks) and toks[k].kind in ('punct', 'skip') and toks[k].text in '-,.':
        k += 1
    return k < len(toks) and toks[k].kind == 'word'


def _span_text(text: str, toks: list[Tok], i: int, j: int) -> str:
    raw = text[toks[i].start:toks[j - 1].end]
    return ' '.join(raw.split()).strip(' :-,;=')


_FAST_NAME_RE = re.compile(r'^[^\W\d_][^\d<>≤≥%/+]*$')


# Analyses by line text, kept for one report (:func:`forget` starts the next): a report repeats lines
# (a test printed on every page, the letterhead that pages.boilerplate reads before the parser does).
# The same LineInfo is handed to every caller, so callers never change it (they copy a group to edit it).
_MEMO: dict[tuple[str, bool], LineInfo] = {}
_MEMO_MAX = 4096


def forget() -> None:
    """Drop the analyses of the previous report (each report is timed and sized on its own)."""
    _MEMO.clear()


def analyse(text: str, decimal_comma: bool = False) -> LineInfo:
    """Tokenise ``text`` and group its tokens around names.

    The result is shared between calls for the same line: treat it as read-only (see :func:`copy_group`).
    """
    key = (text, decimal_comma)
    info = _MEMO.get(key)
    if info is None:
        info = _analyse(text, decimal_comma)
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.clear()  # a crude bound for hostile input: refilling costs one report's lines
        _MEMO[key] = info
    return info


def copy_group(g: Group, **changes: object) -> Group:
    """A copy of ``g`` (its own lists) with ``changes`` applied, for a caller that edits a shared group."""
    out = Group(g.name, g.name_start, g.values[:], g.ranges[:], g.units[:], g.flags[:], g.quals[:],
                g.value_first, g.trailing, g.alt_name)
    for key, value in changes.items():
        setattr(out, key, value)
    return out


def _analyse(text: str, decimal_comma: bool) -> LineInfo:
    if _FAST_NAME_RE.match(text) and (' ' not in text or not _may_hold_qual(text)
                                      or not _QUAL_RE.search(text, text.index(' '))):
        # most lines without digits or units are names or headings: skip the tokeniser
        name = ' '.join(text.split()).strip(' :-,;=')
        return LineInfo(text, [], [Group(name=name, name_start=0)] if name else [], Group())
    toks = tokenise(text, decimal_comma)
    _mark_quals(text, toks)
    _mark_flags(toks)
    _mark_range_sex(toks)
    runs = _name_runs(toks)
    owner = [-1] * len(toks)
    for r, (i, j) in enumerate(runs):
        for k in range(i, j):
            owner[k] = r
    groups = [Group(name=_span_text(text, toks, i, j), name_start=toks[i].start) for i, j in runs]
    loose = Group()
    # Leading tokens go to the first group; later ones to the group whose name precedes them.
    # A name with no value of its own after it hands its trailing tokens back to the previous group.
    current = 0 if groups else -1
    for k, t in enumerate(toks):
        if owner[k] >= 0:
            current = owner[k]
            continue
        target = groups[current] if current >= 0 else loose
        if t.kind == 'num':
            if current == 0 and k < runs[0][0]:
                groups[0].value_first = True
            target.values.append(t)
        elif t.kind == 'range':
            target.ranges.append(t)
        elif t.kind == 'unit':
            target.units.append(t)
        elif t.kind == 'flag':
            target.flags.append(t)
        elif t.kind == 'qual':
            target.quals.append(t)
    groups = _merge_valueless(groups)
    if groups and groups[0].value_first and runs and toks[runs[0][0]].start > 0:
        lead = toks[0]
        if lead.kind == 'num' and _next_is_word(toks, 1):
            groups[0].alt_name = ' '.join(text[lead.start:toks[runs[0][1] - 1].end].split()).strip(' :-,;=')
    return LineInfo(text, toks, groups, loose)


def _merge_valueless(groups: list[Group]) -> list[Group]:
    """Fold a name that has no value, range or unit of its own into the group before it."""
    out: list[Group] = []
    for g in groups:
        if out and not g.values and not g.quals and (out[-1].values or out[-1].quals):
            prev = out[-1]
            prev.trailing = f'{prev.trailing} {g.name}'.strip()
            prev.ranges.extend(g.ranges)
            prev.units.extend(g.units)
            prev.flags.extend(g.flags)
            continue
        out.append(g)
    return out
