"""Page texts -> :class:`ParsedReport`.

pypdf prints a result row in many shapes: on one line (``HbA1c 5.3 % 4.00 - 5.60``), value glued
before the name with the range on a later line (``0.90Creatinine`` ... ``0.70 - 1.30 mg/dL``),
or name on one line and ``range unit value`` two lines later. The parser walks the lines of each
page with a little state:

* ``pending``: a name-only line waiting for its data line (skipping method lines);
* ``draft``: a row that still lacks its range or unit, waiting for a continuation line;
* ``heading`` / ``sub``: the section the rows sit under;
* ``note``: inside notes or interpretation text, where only rows the catalogue confirms count.

Reference ranges are only ever the printed ones: a row printed without a range gets
``ref_low = ref_high = None``, ``flag = None`` and ``ref_source = 'none'`` (the catalogue
defaults are left to the interpretation layer, which can say they are defaults).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from bloodq.analysis import catalogue
from bloodq.analysis.lines import Group, LineInfo, analyse
from bloodq.analysis.model import LabResult, ParsedReport, QualitativeResult
from bloodq.analysis.patient import parse_patient
from bloodq.analysis.rows import Draft, RowContext, build_row, clean
from bloodq.analysis.textkinds import (
    header_columns,
    heading_like,
    is_admin,
    is_blank,
    is_note_start,
    is_page_marker,
    is_prose,
    is_table_or_rule,
    method_text,
    panel_title,
    previous_first,
    strip_continued,
    strong_heading,
)

__all__ = ['parse_report']

_EU_RANGE = re.compile(r'(?<![\d,.])\d+,\d{1,2}\s*[-–]\s*\d+,\d{1,2}(?![\d,])')
_EU_HINT = re.compile(r'\d,\d{1,2}\s*[-–]')
# '150.000 - 400.000' may be thousands in a decimal-comma report, so 3-digit decimals are no evidence
_US_RANGE = re.compile(r'(?<![\d,.])\d+\.(?:\d\d?|\d{4,})\s*[-–]\s*\d+\.(?:\d\d?|\d{4,})(?![\d.])')
_QUAL_WORD = (
    r'(?:non[\s\-]?reactive|reactive|not\s+detected|detected|negative|positive|nil|absent|present|trace|'
    r'(?:pale|light|dark|straw)\s+yellow|yellow|amber|clear|turbid|hazy|cloudy|normal)'
)
# a whole line that is a text result (and maybe its reference): 'Negative', 'Pale Yellow Pale Yellow'
_QUAL_LINE = re.compile(r'^' + _QUAL_WORD + r'(?:\s+' + _QUAL_WORD + r')?\s*$', re.IGNORECASE)
_QUAL_FIRST = re.compile(r'^' + _QUAL_WORD, re.IGNORECASE)
_CONTINUES = re.compile(r'[,&/(\-]$|\b(?:of|and|to|for|with|in)$', re.IGNORECASE)
_LONG_WORD = re.compile(r'[A-Za-z]{26,}')
_RANGE_START = re.compile(r'^\W*(?:[<>≤≥]|\d|up\s?to|less|more|below|above)', re.IGNORECASE)
_SERIAL = re.compile(r'^\s*(?:\d{1,3}[.)]|[•·▪●■►\-–])\s*(?=[A-Za-z])')


@dataclass(slots=True)
class _Pending:
    name: str
    group: Group


@dataclass(slots=True)
class _State:
    decimal_comma: bool
    sex: str | None
    prev_first: bool
    results: list[Draft] = field(default_factory=list)
    qualitative: list[QualitativeResult] = field(default_factory=list)
    page: int = 0
    heading: str = ''
    sub: str = ''
    note: bool = False
    pending: _Pending | None = None
    draft: Draft | None = None
    draft_tentative: bool = False

    @property
    def panel(self) -> str:
        """The section rows are filed under: ``heading / sub-heading``."""
        return f'{self.heading} / {self.sub}' if self.heading and self.sub else self.heading or self.sub

    def ctx(self) -> RowContext:
        """What the row builder needs to know about the current position."""
        return RowContext(self.page, self.panel, self.sex, self.prev_first, self.note)

    # --- state changes -----------------------------------------------------------------

    def flush(self) -> None:
        """Forget any row waiting for a continuation line."""
        self.draft = None
        self.draft_tentative = False

    def reset(self) -> None:
        """A line that is not part of a result: nothing carries over it."""
        self.flush()
        self.pending = None

    def promote(self, name: str) -> None:
        """A name line that turned out to head other rows becomes the heading or sub-heading."""
        name = strip_continued(name)
        if heading_like(name) or panel_title(name) or not self.heading:
            self.heading, self.sub = name, ''
        else:
            self.sub = name

    # --- line handlers -----------------------------------------------------------------

    def feed(self, line: str) -> None:
        """Classify one (whitespace-collapsed) line and update the state."""
        if is_blank(line):
            return
        if is_table_or_rule(line) or is_page_marker(line):
            self.reset()
            return
        if method_text(line) is not None and not _only_range(line, self.decimal_comma):
            return
        cols = header_columns(line)
        if cols is not None:
            self.reset()
            self.note = False
            return
        if is_note_start(line):
            self.reset()
            self.note = True
            return
        if is_prose(line):
            line = _serial_row(line, self.decimal_comma)
            if not line:
                self.reset()
                return
        if _QUAL_LINE.match(line) and self.pending is not None:
            self._qual_data(line)
            return
        info = analyse(line, self.decimal_comma)
        valued = [g for g in info.groups if g.values or g.quals or _censored(g)]
        if valued:
            self._row_line(valued)
        elif info.groups:
            self._name_line(info)
        elif info.loose.values or _censored(info.loose):
            self._data_line(info.loose)
        elif info.loose.ranges or info.loose.units:
            self._cont_line(info.loose)
        else:
            self.reset()

    def _accept(self, made: Draft | QualitativeResult | None) -> bool:
        if isinstance(made, QualitativeResult):
            self.qualitative.append(made)
            self.flush()
            return True
        if isinstance(made, Draft):
            self.results.append(made)
            self.draft = None if made.complete else made
            self.draft_tentative = False
            return True
        return False

    def _row_line(self, groups: list[Group]) -> None:
        self.flush()
        saved = (self.heading, self.sub)
        if self.pending is not None:
            self.promote(self.pending.name)
        self.pending = None
        made = 0
        for g in groups:
            made += self._accept(build_row(g.name, g, self.ctx()))
        if made:
            self.note = False
        else:
            self.heading, self.sub = saved
            self._tentative(groups[0])

    def _tentative(self, g: Group) -> None:
        """``0.50Foo Bar`` with its range on a later line: keep it until that line shows up."""
        if self.note or not g.value_first or g.ranges or g.units or len(g.values) != 1 or is_admin(g.name):
            self.reset()
            return
        ctx = self.ctx()
        ctx.range_follows = True
        draft = build_row(g.name, g, ctx)
        if isinstance(draft, Draft):
            self.draft, self.draft_tentative = draft, True
        else:
            self.reset()

    def _name_line(self, info: LineInfo) -> None:
        name = clean(' '.join(g.name for g in info.groups))
        if self.note:
            if heading_like(name) and not is_admin(name) and not _LONG_WORD.search(name):
                self.note = False
            else:
                return
        if is_admin(name) or _LONG_WORD.search(name):
            self.reset()
            return
        self.flush()
        group = Group(name)
        for g in info.groups:
            group.ranges.extend(g.ranges)
            group.units.extend(g.units)
        if self.pending is not None and _CONTINUES.search(self.pending.name) and not heading_like(name):
            self.pending.name = f'{self.pending.name} {name}'
            self.pending.group.ranges.extend(group.ranges)
            self.pending.group.units.extend(group.units)
            return
        if self.pending is not None and name[:1].islower():
            self.pending.name = f'{self.pending.name} {name}'
            return
        if self.pending is not None:
            self.promote(self.pending.name)
        self.pending = _Pending(name, group)

    def _data_line(self, loose: Group) -> None:
        pending = self.pending
        self.reset()
        if pending is None:
            return
        if not loose.ranges:
            loose.ranges = pending.group.ranges
        if not loose.units:
            loose.units = pending.group.units
        saved = (self.heading, self.sub)
        if strong_heading(pending.name):
            self.heading, self.sub = pending.name, ''
        else:
            self.sub = ''
        if not self._accept(build_row(pending.name, loose, self.ctx())):
            self.heading, self.sub = saved
        else:
            self.note = False

    def _qual_data(self, line: str) -> None:
        pending = self.pending
        self.reset()
        if pending is None or self.note or is_admin(pending.name):
            return
        first = _QUAL_FIRST.match(line)
        value = clean(first.group(0)) if first else clean(line)
        self.qualitative.append(QualitativeResult(
            name=pending.name, canonical=catalogue.lookup_qualitative(pending.name), value_text=value,
            ref_text=clean(line[first.end():]) if first else '', panel=self.panel, page=self.page,
        ))

    def _cont_line(self, loose: Group) -> None:
        draft = self.draft
        if draft is None:
            if self.pending is not None:
                self.pending.group.ranges.extend(loose.ranges)
                self.pending.group.units.extend(loose.units)
            return
        draft.absorb(loose)
        if self.draft_tentative:
            # an unknown test only counts once its printed range turns up
            if draft.range_tok is not None:
                self.results.append(draft)
            self.flush()
        elif draft.complete:
            self.flush()
        # else one column per line ('g/dL', then '13.0 - 17.0'): the draft stays open


def _serial_row(line: str, decimal_comma: bool) -> str:
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


def _censored(g: Group) -> bool:
    return not g.values and len(g.ranges) >= 2 and bool(g.ranges[0].op)


def _only_range(line: str, decimal_comma: bool) -> bool:
    if _RANGE_START.match(line) is None:
        return False  # '(Photometry)', '(CKD EPI Equation 2021)': a method, not '(13.0 - 17.0)'
    info = analyse(line, decimal_comma)
    return not info.groups and not info.loose.values and bool(info.loose.ranges)


def _result_like(info: LineInfo) -> bool:
    """A data line ('0.00', 'Nil', '4.8 thou/mm3 2.0 - 7.0'), not a letterhead line ('18, ROHINI', dates, lab numbers)."""
    if any(t.kind in ('date', 'time') or (t.kind == 'num' and len(t.text) >= 6 and t.text.isdigit())
           for t in info.tokens):
        return False
    return bool(info.loose.values) or any(g.quals or (g.values and (g.units or g.ranges)) for g in info.groups)


def _uses_decimal_comma(text: str) -> bool:
    eu = len(_EU_RANGE.findall(text)) if _EU_HINT.search(text) else 0
    return eu > 0 and eu > len(_US_RANGE.findall(text))


def _boilerplate(pages: list[list[str]]) -> set[str]:
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
        if _QUAL_LINE.match(line):
            continue  # 'Nil' under two different urine tests
        if any(ch.isdigit() for ch in line) and not is_admin(line) and _result_like(analyse(line)):
            continue  # a data line can repeat ('0.00' under two tests)
        out.add(line)
    return out


def parse_report(pages: list[str]) -> ParsedReport:
    """Every result row, qualitative row and the patient header found in ``pages`` (one text per page)."""
    patient = parse_patient(pages)
    split = [[clean(raw) for raw in text.splitlines()] for text in pages]
    joined = '\n'.join(pages)
    prev_first = any(
        previous_first(cols) for lines in split for line in lines if 'prev' in line.lower()
        for cols in [header_columns(line)] if cols is not None
    )
    state = _State(decimal_comma=_uses_decimal_comma(joined), sex=patient.sex, prev_first=prev_first)
    boiler = _boilerplate(split)
    for number, lines in enumerate(split, 1):
        state.page = number
        state.reset()
        for line in lines:
            if line and line not in boiler:
                state.feed(line)
        state.reset()
    results: list[LabResult] = [d.result() for d in state.results]
    return ParsedReport(results=results, qualitative=state.qualitative, patient=patient, pages=len(pages))
