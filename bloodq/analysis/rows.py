"""Turn a name and its surrounding tokens into a result row, or refuse to.

The rules for accepting a row are deliberately asymmetric: a name the catalogue knows only needs
a plausible value; an unknown name needs the shape of a result (a printed range, or a unit with a
lab flag) and must not read like administration or prose. That keeps unseen analytes while
refusing addresses, lab numbers and interpretation tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bloodq.analysis import catalogue
from bloodq.analysis.catalogue import Marker
from bloodq.analysis.lines import Group, Tok, analyse
from bloodq.analysis.model import Flag, LabResult, QualitativeResult
from bloodq.analysis.textkinds import METHOD_WORDS, heading_like, is_admin, is_prose, panel_title, words

_MAX_UNKNOWN_WORDS = 6
_RANGE_START = re.compile(r'^\W*(?:[<>≤≥]|\d|up\s?to|less|more|below|above)', re.IGNORECASE)
_SERIAL = re.compile(r'^\s*(?:\d{1,3}[.)]|[•·▪●■►\-–])\s*(?=[A-Za-z])')
# words that make a sentence; 'of', 'per', 'in' also occur in unit tails ('% of total Hgb', 'per 100 WBC')
_SENTENCE_WORDS = frozenset([
    'or', 'and', 'is', 'are', 'was', 'were', 'be', 'should', 'may', 'can', 'will', 'would', 'must', 'has', 'have',
    'than', 'if', 'when', 'which', 'that', 'the', 'please', 'indicates', 'suggests', 'consistent',
])


@dataclass(slots=True)
class Draft:
    """A numeric row being assembled; continuation lines may still add its range or unit."""

    name: str
    value: float
    value_text: str
    unit: str
    range_tok: Tok | None
    marker: Marker | None
    panel: str
    page: int
    sex: str | None

    @property
    def complete(self) -> bool:
        """Has a range for the patient's sex and a unit (nothing left for a continuation line to add)."""
        return self.range_tok is not None and bool(self.unit) and not self._other_sex_range()

    def _other_sex_range(self) -> bool:
        return bool(self.sex and self.range_tok is not None and self.range_tok.sex and self.range_tok.sex != self.sex)

    def absorb(self, group: Group) -> None:
        """Take the range and unit of a continuation line (``' 0.70 - 1.30 mg/dL'``) if missing.

        A range labelled for the other sex is replaced by the next line's range for the patient's
        sex (``Male: 13 - 17`` then ``Female: 12 - 15`` on its own line).
        """
        wanted = self.range_tok is None or (self._other_sex_range() and any(r.sex == self.sex for r in group.ranges))
        if group.ranges and wanted:
            self.range_tok = pick_range(group.ranges, self.sex)
        if not self.unit and group.units:
            self.unit = clean(group.units[0].text)
            marker = catalogue.lookup(self.name, self.unit, value=self.value, context=self.panel)
            if marker is not None:
                self.marker = marker

    def rename(self, name: str) -> None:
        """The row's name was wrapped: ``name`` is the whole of it (and may name another test: MCH -> MCHC)."""
        self.name = name
        self.marker = catalogue.lookup(name, self.unit, value=self.value, context=self.panel) or self.marker

    def result(self) -> LabResult:
        """The finished, immutable row."""
        lo = hi = None
        ref_text = ''
        flag: Flag | None = None
        if self.range_tok is not None:
            lo, hi = self.range_tok.lo, self.range_tok.hi
            ref_text = clean(self.range_tok.text.strip().strip('()[]'))
            flag = compute_flag(self.value, lo, hi)
        return LabResult(
            name=self.name, canonical=self.marker.canonical if self.marker else '', value=self.value,
            unit=self.unit, ref_low=lo, ref_high=hi, ref_text=ref_text, flag=flag, panel=self.panel,
            page=self.page, value_text=self.value_text, ref_source='printed' if self.range_tok else 'none',
        )


def clean(text: str) -> str:
    """Collapse whitespace."""
    return ' '.join(text.split())


def compute_flag(value: float, lo: float | None, hi: float | None) -> Flag | None:
    """low / normal / high against an inclusive interval; None without any bound."""
    if lo is None and hi is None:
        return None
    if lo is not None and value < lo:
        return 'low'
    if hi is not None and value > hi:
        return 'high'
    return 'normal'


def pick_range(ranges: list[Tok], sex: str | None) -> Tok:
    """The range for the patient's sex when ranges are labelled by sex, else the first one."""
    if sex:
        for r in ranges:
            if r.sex == sex:
                return r
    for r in ranges:
        if not r.sex:
            return r
    return ranges[0]


def _is_id(tok: Tok) -> bool:
    """Lab and barcode numbers: long integers printed without grouping."""
    text = tok.text
    # '01' is a lab-site code (LabCorp), '439854467' a lab number; '0' is a real value
    return text.isdigit() and (len(text) >= 7 or (len(text) >= 2 and text.startswith('0')))


_LETTER = re.compile(r'[^\W\d_]')
_NO_RANGE = re.compile(r'^(?:not\s+estab\w*\.?|not\s+established|n/?a|nil|none|-+)$', re.IGNORECASE)
_FLAG_SUFFIX = re.compile(r'\s+(?:H|L|HH|LL|High|Low|HIGH|LOW|\*)$')


def _strip_flag_word(name: str) -> str:
    """'WBC H' (flag printed before the value) -> 'WBC'."""
    return _FLAG_SUFFIX.sub('', name) if ' ' in name else name


def _sentence_tail(trailing: str) -> bool:
    """'... 6.5 % or higher indicates diabetes': words after the value that read as a sentence."""
    ws = words(trailing)
    return len(ws) >= 2 and not _SENTENCE_WORDS.isdisjoint(ws)


_WORD_SPAN = re.compile(r'\S+')


def strip_method(name: str) -> str:
    """``'TESTOSTERONE TOTAL CLIA'`` -> ``'TESTOSTERONE TOTAL'``: drop a method column's text from a name.

    Trailing method words go first; a known analyte is then cut back to the longest leading part
    that is itself a catalogue alias (``'GAMMA GT SZASZ'`` -> ``'GAMMA GT'``).
    """
    spans = [(m.start(), m.end()) for m in _WORD_SPAN.finditer(name)]
    n = len(spans)
    while n > 1:
        word = name[spans[n - 1][0]:spans[n - 1][1]]
        if word.endswith((')', ']')) or word.lower().strip(',;:') not in METHOD_WORDS:
            break  # '(IFCC)' in 'HBA1C (IFCC)' is part of the name, not a method column
        n -= 1
    cut = name[:spans[n - 1][1]] if spans else name
    full = catalogue.lookup_all(name)
    if not full or catalogue.is_alias(cut):
        return cut.rstrip(' -:,;')
    for k in range(n, 0, -1):
        part = name[:spans[k - 1][1]].rstrip(' -:,;')
        if catalogue.is_alias(part) and catalogue.lookup_all(part) == full:
            return part
    return cut.rstrip(' -:,;') if catalogue.lookup_all(cut) == full else name


def _name_ok(name: str) -> bool:
    return _LETTER.search(name) is not None and not is_prose(name) and len(words(name)) <= 12


@dataclass(slots=True)
class RowContext:
    """What the parser knows around a line."""

    page: int
    panel: str
    sex: str | None
    previous_first: bool = False
    strict: bool = False  #: inside notes/interpretation: only rows the catalogue confirms
    range_follows: bool = False  #: an unknown test may lack its range: the caller waits for the range line
    method_col: bool = False  #: the table header has a method column after the test name
    censored_one: bool = False  #: a lone '<x' / '>x' after a known name is the (censored) result
    date_cols: int = 0  #: a cumulative table: how many dated result columns the header prints ...
    latest_col: int = 0  #: ... and which of them is the latest


def _candidate_values(group: Group, ctx: RowContext) -> list[Tok]:
    vals = [v for v in group.values if not _is_id(v)]
    if ctx.previous_first and len(vals) >= 2:
        vals = vals[1:] + vals[:1]
    elif ctx.date_cols >= 2 and len(vals) >= 2:
        # the value under the latest date; with blanks, the latest side of the row (new tests lack old results)
        if len(vals) >= ctx.date_cols:
            k = ctx.latest_col
        else:
            k = 0 if ctx.latest_col == 0 else len(vals) - 1
        vals = [vals[k]] + vals[:k] + vals[k + 1:]
    return vals


def _choose_name(name: str, group: Group) -> tuple[str, list[Tok]]:
    """Resolve ``25 Hydroxy Vitamin D 32``: is the leading number the value or part of the name?"""
    if group.value_first and len(group.values) >= 2:
        # pypdf glues a lone value before its name; with more values after the name, the leading
        # number is a serial number or part of the name ('25 Hydroxy Vitamin D')
        if group.alt_name and catalogue.lookup_all(group.alt_name):
            return group.alt_name, group.values[1:]
        return name, group.values[1:]
    return name, group.values


def build_row(name: str, group: Group, ctx: RowContext) -> Draft | QualitativeResult | None:
    """A numeric draft, a qualitative result, or None when ``group`` is not a result."""
    name, values = _choose_name(_strip_flag_word(clean(name)), group)
    if ctx.method_col and name:
        name = strip_method(name)
    if not name or not _name_ok(name) or _sentence_tail(group.trailing):
        return None
    group = Group(name, group.name_start, values, group.ranges, group.units, group.flags, group.quals,
                  trailing=group.trailing)
    unit = clean(group.units[0].text) if group.units else ''
    ranges = list(group.ranges)
    vals = _candidate_values(group, ctx)
    censored = False
    if not vals and (len(ranges) >= 2 or ctx.censored_one) and ranges and ranges[0].op and not ranges[0].sex:
        # '< 0.5 mg/L  0 - 5': a censored value, printed like a one-sided range
        bound = ranges[0].hi if ranges[0].hi is not None else ranges[0].lo
        if bound is not None:
            vals = [Tok('num', ranges[0].text.strip().strip('()[]').strip(), 0, 0, bound)]
            ranges = ranges[1:]
            censored = True
    if not vals and (ranges or unit):
        # 'Eosinophils 02 % 01 - 06': a zero-padded count is the value when nothing else is
        vals = [v for v in group.values if len(v.text) <= 3 and v.text.isdigit()]
    if not vals:
        return _qualitative(name, group, ctx)
    marker = catalogue.lookup(name, unit, value=vals[0].value, context=ctx.panel)
    if marker is not None:
        chosen = next((v for v in vals if catalogue.is_plausible(marker, v.value, unit)), None)
        if chosen is None:
            return None
        if chosen is not vals[0]:  # the value decides between same-named tests: look again with the chosen one
            marker = catalogue.lookup(name, unit, value=chosen.value, context=ctx.panel) or marker
        if ctx.strict and not (unit or ranges):
            return None
    else:
        chosen = vals[0]
        if not _unknown_ok(name, chosen, unit, ranges, group, ctx):
            return None
    range_tok = pick_range(ranges, ctx.sex) if ranges else None
    if censored:
        chosen.text = clean(chosen.text)
    return Draft(name, chosen.value, chosen.text, unit, range_tok, marker, ctx.panel, ctx.page, ctx.sex)


def _unknown_ok(name: str, value: Tok, unit: str, ranges: list[Tok], group: Group, ctx: RowContext) -> bool:
    if ctx.strict or is_admin(name) or len(words(name)) > _MAX_UNKNOWN_WORDS:
        return False
    if len(_LETTER.findall(name)) < 2:
        return False
    if not ranges and ctx.range_follows:
        return True
    if not ranges:
        # 'Immature Granulocytes 0 % Not Estab.' yes; 'Diabetes 6.5 % or higher' no
        quiet_tail = not group.trailing or _NO_RANGE.match(group.trailing) is not None
        return bool(unit) and (bool(group.flags) or (quiet_tail and len(words(name)) <= 4))
    r = ranges[0]
    top = r.hi if r.hi is not None else r.lo
    # a number far outside its own printed range is a lab number or a year, not a result
    return not (top is not None and top > 0 and value.value > 100 * top)


def _qualitative(name: str, group: Group, ctx: RowContext) -> QualitativeResult | None:
    if not group.quals or ctx.strict or is_admin(name) or len(words(name)) > _MAX_UNKNOWN_WORDS:
        return None
    ref = clean(group.quals[1].text) if len(group.quals) > 1 else ''
    if not ref and group.ranges:
        ref = clean(group.ranges[0].text.strip().strip('()[]'))
    return QualitativeResult(
        name=name, canonical=catalogue.lookup_qualitative(name), value_text=clean(group.quals[0].text),
        ref_text=ref, panel=ctx.panel, page=ctx.page,
    )


# --- line-level helpers the parser uses ---------------------------------------------------------


def wrapped_name(first: str, rest: str) -> bool:
    """Whether name line ``first`` is the start of a test name that ends on the row line (``rest``).

    ``Gamma Glutamyl`` + ``Transferase (GGT) 45 U/L``: the row's own name is a fragment, and the joined
    name is a test the catalogue knows (or the fragment plainly continues: ``(ALT/SGPT)``, lower case).
    """
    if not rest or heading_like(first) or panel_title(first) or is_admin(first):
        return False
    if rest[0] == '(' or rest[0].islower():
        return True
    return not catalogue.is_alias(rest) and bool(catalogue.lookup_all(f'{first} {rest}'))


def continues(name: str, tail: str) -> bool:
    """Whether the name-only line ``tail`` is the rest of test name ``name`` wrapped inside its cell.

    ``Gamma Glutamyl`` + ``Transferase (GGT)``, ``Mean Corpuscular Hb`` + ``Concentration (MCHC)``: the
    joined name is a test the catalogue knows while the first part alone is not, or the tail plainly
    continues (lower case, or a bracketed abbreviation of the same test: ``Glycated Haemoglobin`` + ``(HbA1c)``).
    Headings, administration and lines with digits never continue a name.
    """
    if not tail or not name or heading_like(tail) or is_admin(tail) or _DIGIT.search(tail):
        return False
    if catalogue.is_alias(f'{name} {tail}') and not catalogue.is_alias(name):
        return True  # 'Thyroid Stimulating' + 'Hormone (TSH)', though 'hormone' also titles panels
    if panel_title(tail):
        return False
    if tail[0].islower():
        return True
    if not catalogue.lookup_all(f'{name} {tail}'):
        return False
    return tail[0] == '(' or not catalogue.lookup_all(name)


_DIGIT = re.compile(r'\d')


def serial_row(line: str, decimal_comma: bool) -> str:
    """A numbered row ('1. Hemoglobin 14.5 g/dL 13 - 17') without its number; '' for a numbered note."""
    m = _SERIAL.match(line)
    if m is None:
        return ''
    rest = line[m.end():]
    if is_prose(rest):
        return ''
    info = analyse(rest, decimal_comma)
    rowlike = any(g.values and (g.units or g.ranges or catalogue.lookup_all(g.name)) for g in info.groups)
    return rest if rowlike else ''


def censored_group(g: Group) -> bool:
    """'< 0.5 mg/L 0 - 5': no value, a one-sided range first and another range: a censored result."""
    return not g.values and len(g.ranges) >= 2 and bool(g.ranges[0].op)


def only_range(line: str, decimal_comma: bool) -> bool:
    """A line holding only a range ('(13.0 - 17.0)'), not a method in brackets."""
    if _RANGE_START.match(line) is None:
        return False  # '(Photometry)', '(CKD EPI Equation 2021)': a method, not '(13.0 - 17.0)'
    info = analyse(line, decimal_comma)
    return not info.groups and not info.loose.values and bool(info.loose.ranges)
