"""Rebuild tables that pypdf prints one column at a time.

Some report generators draw a table column by column (every name, then every result, then every
unit, then every range). pypdf keeps the drawing order, so the page text holds a block of K name
lines followed by K value lines, K unit lines and K range lines, each block perhaps under its own
column title (``Result``, ``Unit``, ``Biological Ref. Interval``). :func:`rebuild_columns` finds
such runs and joins them back into K ordinary row lines; every other line is returned untouched.

The test is strict on purpose: at least three names, most of them known to the catalogue,
followed by exactly as many single-value lines. Headings printed in the name column are kept as
lines of their own; a flag column (cells only for abnormal rows) is skipped; a unit column one
cell short per ratio gets blanks for the ratios. Layouts that print whole rows never show three
value-only lines in a row, so they pay a single regex scan per page.
"""

from __future__ import annotations

import re

from bloodq.analysis import catalogue
from bloodq.analysis.lines import analyse, tokenise
from bloodq.analysis.textkinds import column_title, heading_like, is_admin, panel_title

__all__ = ['rebuild_columns']

_MIN_ROWS = 3
_FLAG = r'(?:[HL]{1,2}|\*|[↑↓]|High|Low|HIGH|LOW|Abnormal|ABNORMAL)'
# one result cell: '14.5', '51.8 H', '15.8H', '*3.2', 'L 96', '<5', '>90'
_VALUE_CELL = re.compile(
    r'^\s*(?:' + _FLAG + r'\s+|[*↑↓]\s*)?(?:[<>≤≥]=?\s*)?\d[\d,.]*\s*' + _FLAG + r'?\s*$'
)
_HAS_DIGIT = re.compile(r'\d')
# the cheap page test (lines are whitespace-collapsed): three value cells on consecutive lines
_FAST_CELL = r'(?:[HL]{1,2} |[*↑↓] ?)?(?:[<>≤≥]=? ?)?\d[\d,.]*(?: ?(?:[A-Za-z]{1,8}|\*|[↑↓]))?'
_VALUE_RUN = re.compile(r'\n' + _FAST_CELL + r'\n' + _FAST_CELL + r'\n' + _FAST_CELL + r'(?:\n|$)')


def _is_name(line: str, decimal_comma: bool) -> bool:
    if not line or _HAS_DIGIT.search(line) or column_title(line) or is_admin(line):
        return False
    info = analyse(line, decimal_comma)
    return bool(info.groups) and all(not (g.values or g.ranges or g.units or g.quals) for g in info.groups)


def _cell_kind(line: str, decimal_comma: bool) -> str:
    """'unit', 'range' or '' for a line of a later column."""
    kinds = {t.kind for t in tokenise(line, decimal_comma) if t.kind != 'punct'}
    if kinds == {'unit'}:
        return 'unit'
    if 'range' in kinds and kinds <= {'range', 'unit', 'word'}:
        return 'range'  # '13 - 17 g/dL', '(M) 13-17 (F) 12-15', 'Up to 40'
    return ''


def _known(name: str) -> bool:
    return bool(catalogue.lookup_all(name))


def _fit_names(names: list[str], count: int) -> list[str] | None:
    """The names that own the ``count`` values: headings inside the name column own none."""
    if len(names) == count:
        return names
    kept = [n for n in names if _known(n) or not (heading_like(n) or panel_title(n))]
    if len(kept) == count:
        return kept
    kept = [n for n in names if _known(n)]
    return kept if len(kept) == count else None


_FLAG_CELL = re.compile(r'^\s*' + _FLAG + r'\s*$')


def _skip_titles(lines: list[str], i: int) -> int:
    """Past column titles and a flag column (its cells exist only for abnormal rows, so never line up)."""
    while i < len(lines) and lines[i] and (column_title(lines[i]) or _FLAG_CELL.match(lines[i])):
        i += 1
    return i


def _rows(names: list[str], lines: list[str], j: int, decimal_comma: bool) -> tuple[list[str], int] | None:
    """Rows for the name column ``names`` whose values start at ``lines[j]``, and where they stop."""
    end = j
    while end < len(lines) and end - j < len(names) and _VALUE_CELL.match(lines[end]):
        end += 1  # never more values than names: a range column may start with '< 200'
    fitted = _fit_names(names, end - j)
    if fitted is None or len(fitted) < _MIN_ROWS or sum(map(_known, fitted)) * 2 < len(fitted):
        return None
    cells = [[n, v] for n, v in zip(fitted, lines[j:end], strict=True)]
    stop = end
    while True:
        i = _skip_titles(lines, stop)
        column = _column(lines, i, [row[0] for row in cells], decimal_comma)
        if column is None:
            break
        for row, cell in zip(cells, column, strict=True):
            row.append(cell)
        stop = i + sum(1 for cell in column if cell)
    headings = [n for n in names if n not in fitted]  # kept as lines of their own, before the rows
    return headings + [' '.join(c for c in row if c) for row in cells], stop


def _unitless(name: str) -> bool:
    """Ratios and indices print no unit, so a unit column has no cell for them."""
    markers = catalogue.lookup_all(name)
    return any(not m.unit for m in markers) if markers else 'ratio' in name.lower()


def _column(lines: list[str], i: int, names: list[str], decimal_comma: bool) -> list[str] | None:
    """The next column's cells for the rows ``names`` (``''`` where a unit-less row has no unit), or None."""
    k = len(names)
    run = 0
    kind = ''
    while i + run < len(lines) and run < k:
        this = _cell_kind(lines[i + run], decimal_comma)
        if not this or (kind and this != kind):
            break
        kind, run = this, run + 1
    if run == k:
        return lines[i:i + k]
    blanks = [n for n, name in enumerate(names) if _unitless(name)]
    if kind != 'unit' or not run or run + len(blanks) != k:
        return None
    cells = iter(lines[i:i + run])
    return ['' if n in blanks else next(cells) for n in range(k)]


def rebuild_columns(lines: list[str], decimal_comma: bool = False) -> list[str]:
    """``lines`` with column-at-a-time tables joined back into one line per row."""
    if not _VALUE_RUN.search('\n' + '\n'.join(lines)):  # starts with a literal: a fast scan
        return lines
    out: list[str] = []
    i, n = 0, len(lines)
    while i < n:
        if not lines[i] or _HAS_DIGIT.search(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        j = i
        while j < n and lines[j] and not _HAS_DIGIT.search(lines[j]):
            j += 1
        # lines[i:j] hold no digits: headings, column titles and perhaps a name column
        made = _rebuild_block(lines, i, j, decimal_comma) if j - i >= _MIN_ROWS and j < n else None
        if made is None:
            out.extend(lines[i:j])
            i = j
            continue
        start, rows, stop = made
        out.extend(lines[i:start])
        out.extend(rows)
        i = stop
    return out


def _rebuild_block(lines: list[str], i: int, j: int, decimal_comma: bool) -> tuple[int, list[str], int] | None:
    """The name column at the end of the digit-free run ``lines[i:j]`` joined with the columns after it."""
    if not _VALUE_CELL.match(lines[j]):
        return None
    end = j
    while end > i and column_title(lines[end - 1]):
        end -= 1  # the value column's own title ('Result')
    start = end
    while start > i and not column_title(lines[start - 1]) and _is_name(lines[start - 1], decimal_comma):
        start -= 1
    if end - start < _MIN_ROWS:
        return None
    made = _rows(lines[start:end], lines, j, decimal_comma)
    if made is None:
        return None
    rows, stop = made
    return start, rows, stop
