"""Reading order rebuilt from fragment positions (bloodq.analysis.layout) and the parser's use of it."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from bloodq.analysis.layout import DISORDERED, Fragment, PageText, disorder, reading_lines, row_like
from bloodq.analysis.parser import parse_report
from bloodq.analysis.textkinds import is_note_start, is_page_marker, is_table_or_rule, maybe_structure, method_text

ROWS = [('Haemoglobin', '14.2', 'g/dL', '13.0 - 17.0'), ('Platelet Count', '250', '10^3/uL', '150 - 410'),
        ('Creatinine', '0.91', 'mg/dL', '0.70 - 1.30'), ('Sodium', '140', 'mmol/L', '135 - 145'),
        ('Potassium', '4.4', 'mmol/L', '3.5 - 5.1'), ('Glucose Fasting', '92', 'mg/dL', '70 - 100')]


def _table(top: float = 700.0) -> list[Fragment]:
    """The cells of ROWS in row order: name, value, unit, range per row, rows 14 pt apart."""
    out: list[Fragment] = [(40.0, top + 20, 10.0, 'BIOCHEMISTRY')]
    for i, row in enumerate(ROWS):
        y = top - 14 * i
        out.extend((x, y, 9.0, cell) for x, cell in zip((40.0, 250.0, 320.0, 420.0), row, strict=True))
    return out


def test_reading_lines_join_cells_by_baseline_then_x() -> None:
    """Cells drawn in any order come back one line per row, left to right, a point of baseline shift tolerated."""
    cells = _table()
    cells[2] = (cells[2][0], cells[2][1] - 1.5, cells[2][2], cells[2][3])  # a value cell centred a little lower
    random.Random(1).shuffle(cells)
    lines = reading_lines(tuple(cells))
    assert lines[0] == 'BIOCHEMISTRY'
    assert lines[1:] == [' '.join(row) for row in ROWS]


def test_reading_lines_glue_text_drawn_one_glyph_at_a_time() -> None:
    """Single-glyph fragments a glyph's advance apart form one word; separate words keep their space."""
    glyphs = tuple((250.0 + 5.0 * i, 700.0, 9.0, ch) for i, ch in enumerate('13.5')) + (
        (40.0, 700.0, 9.0, 'Vitamin'), (75.0, 700.0, 9.0, 'D'), (320.0, 700.0, 9.0, 'ng/mL'))
    assert reading_lines(glyphs) == ['Vitamin D 13.5 ng/mL']


def test_disorder_is_low_for_row_order_and_high_for_scrambled_or_column_order() -> None:
    """Row-by-row drawing (even with a footer drawn first) scores low; shuffled cells or a column dump score high."""
    rows = _table()
    assert disorder(tuple(rows)) < 0.05
    footer_first = [(280.0, 40.0, 7.0, 'Page 1 of 1'), *rows]
    assert disorder(tuple(footer_first)) < DISORDERED
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    assert disorder(tuple(shuffled)) >= DISORDERED
    by_column = sorted(rows[1:], key=lambda c: (c[0], -c[1]))
    assert disorder(tuple(by_column)) >= DISORDERED
    assert disorder(tuple(rows[:5])) == 0.0  # too few fragments to say


def test_row_like_counts_lines_shaped_like_results() -> None:
    """Name + value + range or unit counts; headings, dates-only and bare numbers do not."""
    assert row_like(['Haemoglobin 14.2 g/dL 13.0 - 17.0', 'TSH 2.1 0.4-4.5', 'BIOCHEMISTRY', '14.2', 'Page 1']) == 2


def test_page_text_is_its_plain_text() -> None:
    """A PageText compares, splits and joins as the plain string; the fragments ride along."""
    page = PageText('a\nb', ((1.0, 2.0, 9.0, 'a'),))
    assert page == 'a\nb' and page.splitlines() == ['a', 'b'] and page.fragments[0][3] == 'a'
    assert PageText('x').fragments == ()


def test_scrambled_page_is_read_from_positions() -> None:
    """A page whose plain text is a jumble of cells is parsed from its rebuilt lines: every row, nothing extra."""
    cells = _table()
    random.Random(3).shuffle(cells)
    plain = '\n'.join(c[3] for c in cells)  # pypdf keeps the drawing order: one cell per line
    report = parse_report([PageText(plain, tuple(cells))])
    assert sorted((r.name, r.value_text, r.unit, r.ref_text) for r in report.results) == sorted(ROWS)


def test_plain_text_kept_when_it_reads_as_well() -> None:
    """Fragments out of order (a header drawn column-wise) do not replace a plain text that already reads every row."""
    cells = _table()
    plain = 'BIOCHEMISTRY\n' + '\n'.join(' '.join(row) for row in ROWS)
    scrambled = cells[:]
    random.Random(5).shuffle(scrambled)
    report = parse_report([PageText(plain, tuple(scrambled))])
    assert [(r.name, r.value_text) for r in report.results] == [(row[0], row[1]) for row in ROWS]


def test_column_dump_with_blank_cells_is_rebuilt_by_position() -> None:
    """A table dumped column by column with a blank unit and a blank range lines up by position, not by count."""
    rows = [('Haemoglobin', '14.2', 'g/dL', '13.0 - 17.0'), ('INR', '1.05', '', '0.8 - 1.2'),
            ('Absolute Neutrophil Count', '4200', 'cells/cumm', ''), ('Serum Creatinine', '0.91', 'mg/dL', '0.6 - 1.3'),
            ('Blood Urea', '31', 'mg/dL', '15 - 45')]
    cells = [(x, 700.0 - 14 * i, 9.0, row[k]) for k, x in ((1, 250.0), (2, 320.0), (3, 420.0), (0, 40.0))
             for i, row in enumerate(rows) if row[k]]
    plain = '\n'.join(c[3] for c in cells)
    got = {r.name: (r.value_text, r.unit, r.ref_text) for r in parse_report([PageText(plain, tuple(cells))]).results}
    assert got == {row[0]: row[1:] for row in rows}


_WORDS = ['Page', 'page 2 of 3', 'Method', 'Specimen', 'Notes', 'Interpretation', 'Comments:', 'Remarks -', 'Clinical',
          'significance', 'End of report', '(ECLIA)', 'Haemoglobin', '14.5', 'g/dL', '|', '*', '-', '=', '12345678',
          'References', 'Summary', 'Advice', ':', ' ', '•', '1.', 'methodology', 'sample type:', 'Technique -']


@given(st.lists(st.sampled_from(_WORDS), max_size=6).map(' '.join) | st.text(max_size=30))
@settings(max_examples=400, deadline=None)
def test_maybe_structure_never_hides_a_structure_line(line: str) -> None:
    """The one-scan prefilter is a superset: every rule, table row, page marker, method line or note title passes it."""
    line = ' '.join(line.split())
    if (is_table_or_rule(line) or is_page_marker(line) or method_text(line) is not None or is_note_start(line)):
        assert maybe_structure(line)


def test_maybe_structure_lets_ordinary_rows_skip() -> None:
    """Rows, names and headings are not structure lines, so the parser skips those checks for them."""
    assert not any(maybe_structure(s) for s in ('Haemoglobin 14.5 g/dL 13.0 - 17.0', 'LIPID PROFILE', 'TSH'))
