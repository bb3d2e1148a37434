"""The line-by-line reader behind :func:`bloodq.analysis.parser.parse_report`.

pypdf prints a result row in many shapes: on one line (``HbA1c 5.3 % 4.00 - 5.60``), value glued
before the name with the range on a later line (``0.90Creatinine`` ... ``0.70 - 1.30 mg/dL``),
or name on one line and ``range unit value`` two lines later. The parser walks the lines of each
page with a little state:

* ``pending``: a name-only line waiting for its data line (skipping method lines);
* ``draft``: a row that still lacks its range or unit, waiting for a continuation line;
* ``heading`` / ``sub``: the section the rows sit under;
* ``note``: inside notes or interpretation text, where only rows the catalogue confirms count;
* ``refblock``: inside a ``Reference Ranges`` block, whose ``NAME : range`` lines are joined to the
  rows printed without a range once the whole report is read (:mod:`bloodq.analysis.refranges`);
* ``method_col`` / ``date_cols``: what the table header says (a method column to keep out of names;
  the dated result columns of a cumulative report, of which the latest is the result).

A test name wrapped inside its cell is joined back to its row, whichever line of the cell was drawn
first (:func:`bloodq.analysis.rows.continues`).

Reference ranges are only ever the printed ones: a row printed without a range gets
``ref_low = ref_high = None``, ``flag = None`` and ``ref_source = 'none'`` (the catalogue
defaults are left to the interpretation layer, which can say they are defaults).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bloodq.analysis import catalogue
from bloodq.analysis.lines import Group, LineInfo, analyse, copy_group
from bloodq.analysis.model import QualitativeResult
from bloodq.analysis.patient import date_columns, report_month_first
from bloodq.analysis.refranges import RangeDef
from bloodq.analysis.rows import (
    Draft,
    RowContext,
    build_row,
    censored_group,
    clean,
    continues,
    only_range,
    serial_row,
    wrapped_name,
)
from bloodq.analysis.textkinds import (
    QUAL_FIRST,
    QUAL_LINE,
    column_title,
    header_columns,
    heading_like,
    is_admin,
    is_blank,
    is_note_start,
    is_page_marker,
    is_prose,
    is_reference_title,
    is_table_or_rule,
    maybe_structure,
    method_text,
    panel_title,
    strip_continued,
    strong_heading,
)

__all__ = ['LineState', 'Pending']

_CONTINUES = re.compile(r'[,&/(\-]$|\b(?:of|and|to|for|with|in)$', re.IGNORECASE)
_LONG_WORD = re.compile(r'[A-Za-z]{26,}')
_SITE_CODE = re.compile(r'^0\d{1,2}$')
_NOISE_LINE = re.compile(r'^\s*(?:0\d{1,2}|[HL]{1,2}|High|Low|HIGH|LOW|Abnormal|ABNORMAL|\*+|[↑↓])\s*$')


@dataclass(slots=True)
class Pending:
    """A name-only line waiting for its data line."""

    name: str
    group: Group
    after: Draft | None = None  #: the row read on the line just before: the name may be the rest of its name


@dataclass(slots=True)
class LineState:
    """What the reader knows at the current line of a report; :meth:`feed` takes the next line."""

    decimal_comma: bool
    sex: str | None
    prev_first: bool
    results: list[Draft] = field(default_factory=list)
    qualitative: list[QualitativeResult] = field(default_factory=list)
    page: int = 0
    heading: str = ''
    sub: str = ''
    note: bool = False
    pending: Pending | None = None
    draft: Draft | None = None
    draft_tentative: bool = False
    method_col: bool = False  #: the current table has a method/technology column after the name
    refblock: bool = False  #: inside a 'Reference Ranges' block: name + range lines define ranges
    ref_name: str = ''  #: a name line inside a reference block, waiting for its range line
    defs: list[RangeDef] = field(default_factory=list)
    seq: int = 0  #: line counter over the whole report
    seqs: list[int] = field(default_factory=list)  #: the line each result was read on
    pages: list[str] = field(default_factory=list)
    date_cols: int = 0  #: a cumulative table: its header's dated result columns ...
    latest_col: int = 0  #: ... and which of them is the latest
    last_row: Draft | None = None  #: the row read on line ``last_seq`` (a one-row line)
    last_seq: int = -1

    @property
    def panel(self) -> str:
        """The section rows are filed under: ``heading / sub-heading``."""
        return f'{self.heading} / {self.sub}' if self.heading and self.sub else self.heading or self.sub

    def ctx(self) -> RowContext:
        """What the row builder needs to know about the current position."""
        return RowContext(self.page, self.panel, self.sex, self.prev_first, self.note, method_col=self.method_col,
                          date_cols=self.date_cols, latest_col=self.latest_col)

    # --- state changes -----------------------------------------------------------------

    def flush(self) -> None:
        """Forget any row waiting for a continuation line."""
        self.draft = None
        self.draft_tentative = False

    def reset(self) -> None:
        """A line that is not part of a result: nothing carries over it."""
        self.flush()
        self.settle()
        self.pending = None

    def settle(self) -> bool:
        """A name line that got no data line of its own, right after a row, ends that row's wrapped name."""
        pending = self.pending
        if pending is None or pending.after is None or not continues(pending.after.name, pending.name):
            return False
        pending.after.rename(f'{pending.after.name} {pending.name}')
        self.pending = None
        return True

    def promote(self, name: str) -> None:
        """A name line that turned out to head other rows becomes the heading or sub-heading."""
        name = strip_continued(name)
        if heading_like(name) or panel_title(name) or not self.heading or catalogue.is_alias(name):
            # a test's own name over its row ('TSH' then 'TSH 01 2.1 ...') heads a section of its own
            self.heading, self.sub = name, ''
        else:
            self.sub = name

    # --- line handlers -----------------------------------------------------------------

    def columns_seen(self, cols: tuple[str, ...]) -> None:
        """A header line repeated on every page (dropped as letterhead) still tells the table's columns."""
        self.method_col = not {'method', 'methodology', 'technology'}.isdisjoint(cols)

    def feed(self, line: str) -> None:
        """Classify one (whitespace-collapsed) line and update the state."""
        self.seq += 1
        if is_blank(line) or self._structure(line):
            return
        if is_prose(line):
            line = serial_row(line, self.decimal_comma)
            if not line:
                self.reset()
                return
        if self.pending is not None and QUAL_LINE.match(line):
            self._qual_data(line)
            return
        if (len(line) <= 8 and _NOISE_LINE.match(line)) or column_title(line):
            # a column's own title cell ('Result'), a lab-site code ('01') or a flag ('H') on its own line
            return
        info = analyse(line, self.decimal_comma)
        groups = [copy_group(g, values=[]) if g.values and not g.ranges and not g.units
                  and all(_SITE_CODE.match(v.text) for v in g.values) else g for g in info.groups]
        # ('Glucose 01': a footnote / lab-site code, the result is on the next line)
        lone = {id(g) for k, g in enumerate(groups)
                if not g.values and len(g.ranges) == 1 and self._lone_censored(g, groups[k + 1:])}
        valued = [g for g in groups if g.values or g.quals or censored_group(g) or id(g) in lone]
        if valued:
            self._row_line(valued, lone)
        elif groups:
            self._name_line(info)
        elif info.loose.values or censored_group(info.loose):
            self._data_line(info.loose)
        elif info.loose.ranges or info.loose.units:
            self._cont_line(info.loose)
        else:
            self.reset()

    def _structure(self, line: str) -> bool:
        """Rules, page markers, method lines, headers, reference and note titles: True when consumed."""
        maybe = maybe_structure(line)
        if maybe and (is_table_or_rule(line) or is_page_marker(line)):
            self.reset()
            return True
        method = method_text(line) if maybe else None
        if method is not None and not only_range(line, self.decimal_comma):
            if method == line and is_note_start(line):  # 'Method :' over a list of methods
                self.reset()
                self.note = True
            return True
        cols = header_columns(line)
        if cols is not None and is_reference_title(line):
            self.reset()
            self.note, self.refblock, self.ref_name = False, True, ''
            return True
        if cols is not None:
            self.reset()
            self.note = self.refblock = False
            self.date_cols = 0
            self.method_col = not {'method', 'methodology', 'technology'}.isdisjoint(cols)
            return True
        if maybe and is_note_start(line):
            self.reset()
            self.note = True
            return True
        return False

    def _accept(self, made: Draft | QualitativeResult | None) -> bool:
        if isinstance(made, QualitativeResult):
            self.qualitative.append(made)
            self.flush()
            return True
        if isinstance(made, Draft):
            self._add(made)
            self.draft = None if made.complete else made
            self.draft_tentative = False
            return True
        return False

    def _row_line(self, groups: list[Group], lone: set[int]) -> None:
        self.flush()
        saved = (self.heading, self.sub)
        pending = self.pending
        if pending is not None and not self.settle():
            name = groups[0].name
            if continues(name, pending.name) and catalogue.is_alias(f'{name} {pending.name}'):
                # the cell's second line drawn first: 'Haemoglobin (MCH)' then 'Mean Corpuscular 30.4 pg'
                groups[0] = copy_group(groups[0], name=f'{name} {pending.name}')
            elif wrapped_name(pending.name, name):
                groups[0] = copy_group(groups[0], name=f'{pending.name} {name}')  # a long name wrapped
            elif continues(name, pending.name):
                groups[0] = copy_group(groups[0], name=f'{name} {pending.name}')
            else:
                self.promote(pending.name)
        self.pending = None
        made = 0
        before = len(self.results)
        for g in groups:
            ctx = self.ctx()
            ctx.censored_one = id(g) in lone
            made += self._accept(build_row(g.name, g, ctx))
        self.last_row = self.results[-1] if len(self.results) == before + 1 and len(groups) == 1 else None
        self.last_seq = self.seq
        if made:
            self.note = self.refblock = False
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

    def _add(self, draft: Draft) -> None:
        self.results.append(draft)
        self.seqs.append(self.seq)

    def _lone_censored(self, g: Group, after: list[Group]) -> bool:
        """``eGFR >90 mL/min/1.73m2``: a known test whose only number is a censored result, not a range.

        Not when words follow (``HbA1c >= 6.5 % Diabetes`` is guidance), unless they start another row.
        """
        if g.values or len(g.ranges) != 1 or not g.units or self.note or self.refblock:
            return False
        if after and not (after[0].values or after[0].quals or after[0].ranges):
            return False
        r = g.ranges[0]
        if not r.op or r.sex or r.start > g.units[0].start:
            return False
        marker = catalogue.lookup(g.name, g.units[0].text)
        # a second '<100 mg/dL' line for a test already read is guidance ('LDL Cholesterol < 100 mg/dL'), not a result
        return marker is not None and all(d.marker is not marker for d in self.results)

    def _ref_line(self, info: LineInfo) -> bool:
        """A line inside a reference block: ``NAME : range unit`` is a definition (True).

        A name alone may head its range line (``TSH`` then ``Adults : 0.54 - 5.30``); it and a heading that
        ends the block (``LIVER FUNCTION TEST``) are then read as usual (False).
        """
        ranges = [r for g in info.groups for r in g.ranges]
        units = [u for g in info.groups for u in g.units]
        name = clean(' '.join(g.name for g in info.groups))
        if not ranges and not catalogue.lookup_all(name) and (heading_like(name) or panel_title(name)):
            self.refblock = False
            return False
        if not ranges:
            self.ref_name = name  # and read on as usual: a split 'Reference Range' header cell opens no block
            return False
        self.reset()
        if self.ref_name and not catalogue.lookup_all(name) and not is_admin(name):
            name = self.ref_name  # 'Adults : 0.54 - 5.30' under its test name
        self.defs.append(RangeDef(name, ranges, clean(units[0].text) if units else '', self.seq))
        self.ref_name = ''
        return True

    def _name_line(self, info: LineInfo) -> None:
        if self.refblock and self._ref_line(info):
            return
        if sum(t.kind == 'date' for t in info.tokens) >= 2:
            dated = date_columns(info.text, report_month_first(self.pages))
            if dated is not None:  # 'Test 14/03/24 02/01/24 Units Reference': a cumulative table's header
                self.reset()
                self.date_cols, self.latest_col = dated
                return
        name = clean(' '.join(g.name for g in info.groups))
        if self.note:
            if heading_like(name) and not is_admin(name) and not _LONG_WORD.search(name):
                self.note = False
            else:
                return
        if self.draft is not None and column_title(name) and any(g.ranges for g in info.groups):
            self.draft.absorb(info.groups[0])  # 'Normal range: 13.0 - 17.0' under its result
            self.flush()
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
        if self.pending is not None and not self.settle():
            self.promote(self.pending.name)
        after = self.last_row if self.last_seq == self.seq - 1 else None
        self.pending = Pending(name, group, after)

    def _data_line(self, loose: Group) -> None:
        pending, self.pending = self.pending, None
        self.reset()
        if pending is None:
            return
        if not loose.ranges or not loose.units:
            loose = copy_group(loose, ranges=loose.ranges or pending.group.ranges, units=loose.units or pending.group.units)
        saved = (self.heading, self.sub)
        if strong_heading(pending.name):
            self.heading, self.sub = pending.name, ''
        else:
            self.sub = ''
        if not self._accept(build_row(pending.name, loose, self.ctx())):
            self.heading, self.sub = saved
        else:
            self.note = self.refblock = False

    def _qual_data(self, line: str) -> None:
        pending, self.pending = self.pending, None
        self.reset()
        if pending is None or self.note or is_admin(pending.name):
            return
        first = QUAL_FIRST.match(line)
        value = clean(first.group(0)) if first else clean(line)
        self.qualitative.append(QualitativeResult(
            name=pending.name, canonical=catalogue.lookup_qualitative(pending.name), value_text=value,
            ref_text=clean(line[first.end():]) if first else '', panel=self.panel, page=self.page,
        ))

    def _cont_line(self, loose: Group) -> None:
        if self.refblock and self.ref_name and loose.ranges:
            unit = clean(loose.units[0].text) if loose.units else ''
            self.defs.append(RangeDef(self.ref_name, loose.ranges, unit, self.seq))
            self.ref_name = ''
            return
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
                self._add(draft)
            self.flush()
        elif draft.complete:
            self.flush()
        # else one column per line ('g/dL', then '13.0 - 17.0'): the draft stays open
