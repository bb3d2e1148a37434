"""Page texts -> :class:`ParsedReport`.

Each page's lines are fed to a :class:`~bloodq.analysis.linestate.LineState` (the line-by-line reader: see
its module for the shapes of rows it reads), after tables printed one column at a time are joined back
into rows (:mod:`bloodq.analysis.columns`) and the letterhead repeated on every page is set aside.

A page drawn far out of reading order (cells placed by coordinates in arbitrary order, a table dumped
column by column with blank cells) reads badly in pypdf's plain text; its lines are then rebuilt from
the fragment positions recorded during extraction (:mod:`bloodq.analysis.layout`), and the rebuilt page
is kept where it gives more confident rows.

Reference ranges are only ever the printed ones: a row printed without a range gets
``ref_low = ref_high = None``, ``flag = None`` and ``ref_source = 'none'``.
"""

from __future__ import annotations

from collections import Counter

from bloodq.analysis.columns import rebuild_columns
from bloodq.analysis.layout import DISORDERED, disorder, reading_lines, row_like
from bloodq.analysis.lines import forget
from bloodq.analysis.linestate import LineState
from bloodq.analysis.model import LabResult, ParsedReport, Patient
from bloodq.analysis.pages import boilerplate, uses_decimal_comma
from bloodq.analysis.patient import parse_patient
from bloodq.analysis.refranges import join_ranges
from bloodq.analysis.rows import clean
from bloodq.analysis.textkinds import header_columns, previous_first

__all__ = ['parse_report']


def _read(pages: list[str], split: list[list[str]], sex: str | None) -> LineState:
    """Feed every page's lines (``split``: one list of whitespace-collapsed lines per page) to a fresh state."""
    prev_first = any(
        previous_first(cols) for lines in split for line in lines if 'prev' in line.lower()
        for cols in [header_columns(line)] if cols is not None
    )
    state = LineState(decimal_comma=uses_decimal_comma('\n'.join(pages)), sex=sex, prev_first=prev_first, pages=pages)
    boiler = boilerplate(split)
    boiler_headers = {line: cols for line in boiler for cols in [header_columns(line)] if cols is not None}
    for number, lines in enumerate(split, 1):
        state.page = number
        state.reset()
        for line in rebuild_columns([ln for ln in lines if ln], state.decimal_comma):
            if line not in boiler:
                state.feed(line)
            elif line in boiler_headers:
                state.columns_seen(boiler_headers[line])
        state.reset()
    return state


def _confidence(state: LineState, page: int) -> int:
    """How sure the rows read on ``page`` are: one point for a known test, one for a printed range."""
    return sum((d.marker is not None) + (d.range_tok is not None) for d in state.results if d.page == page)


def _rebuildable(pages: list[str], split: list[list[str]], state: LineState) -> dict[int, list[str]]:
    """Pages drawn out of reading order whose lines rebuilt from positions look like more rows than were read.

    Only pages drawn far out of order are rebuilt at all (a cheap test on the fragment order), and only
    those whose rebuilt lines hold clearly more row-shaped lines than the plain text gave rows, and than
    it holds row-shaped lines itself (notes and tables read the same either way), are kept.
    """
    out: dict[int, list[str]] = {}
    read = Counter(d.page for d in state.results)
    for k, page in enumerate(pages):
        fragments = getattr(page, 'fragments', ())
        if disorder(fragments) < DISORDERED:
            continue
        have = max(read[k + 1], row_like(split[k]))
        need = max(have + 3, 1.25 * have)
        lines = [clean(line) for line in reading_lines(fragments)]
        if row_like(lines) >= need:
            out[k] = lines
    return out


def parse_report(pages: list[str]) -> ParsedReport:
    """Every result row, qualitative row and the patient header found in ``pages`` (one text per page).

    A page drawn out of reading order (its :class:`~bloodq.analysis.layout.PageText` fragments say so)
    is read again from its rebuilt lines, which are kept where they give more confident rows.
    """
    forget()
    patient = parse_patient(pages)
    split = [[clean(raw) for raw in text.splitlines()] for text in pages]
    state = _read(pages, split, patient.sex)
    rebuilt = _rebuildable(pages, split, state)
    if rebuilt:
        # a page drawn out of order has its patient block scrambled too: read the header from the rebuilt
        # lines, keeping what only the plain text told
        header = parse_patient(['\n'.join(rebuilt[k]) if k in rebuilt else text for k, text in enumerate(pages)])
        ordered = Patient(header.age if header.age is not None else patient.age, header.sex or patient.sex,
                          header.collected or patient.collected)
        trial = _read(pages, [rebuilt.get(k, lines) for k, lines in enumerate(split)], ordered.sex)
        gained = {k for k in rebuilt if _confidence(trial, k + 1) > _confidence(state, k + 1)}
        if gained:
            patient = ordered
        if gained == set(rebuilt):
            state = trial
        elif gained:
            state = _read(pages, [rebuilt[k] if k in gained else lines for k, lines in enumerate(split)], patient.sex)
    join_ranges(state.results, state.seqs, state.defs, state.sex)
    results: list[LabResult] = [d.result() for d in state.results]
    return ParsedReport(results=results, qualitative=state.qualitative, patient=patient, pages=len(pages))
