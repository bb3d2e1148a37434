"""Reading order from where text is drawn, for pages whose drawing order is not their reading order.

pypdf's plain text follows the content stream: most report generators draw a table row by row, but
some place every cell by absolute coordinates in an arbitrary order (all values, then all names;
rows bottom to top; one text object per cell in z-order), and plain text then reads as a jumble.
While it extracts a page, :mod:`bloodq.analysis.extract` records each text fragment pypdf reports
(through ``visitor_text``, in the same pass) with its position; :func:`reading_lines` rebuilds the
page's lines from those positions (top to bottom, left to right), and :func:`disorder` says how far
the drawing order strays from that reading order, so the parser only considers the rebuilt lines
for pages that need them.
"""

from __future__ import annotations

import re
from operator import itemgetter
from typing import Self

__all__ = ['DISORDERED', 'Fragment', 'PageText', 'disorder', 'reading_lines', 'row_like']

#: (x, y, font size, text) in PDF user space: y grows up the page; the text as pypdf decoded it
Fragment = tuple[float, float, float, str]


class PageText(str):
    """A page's plain text (it *is* the string) plus the positioned fragments drawn on the page."""

    fragments: tuple[Fragment, ...] = ()

    def __new__(cls, text: str, fragments: tuple[Fragment, ...] = ()) -> Self:
        """The text ``text`` carrying ``fragments`` (drawing order)."""
        page = super().__new__(cls, text)
        page.fragments = fragments
        return page


_X, _Y = itemgetter(0), itemgetter(1)
_MIN_FRAGMENTS = 12
#: pages with at least this share of (numeric) fragments drawn far from their reading position are rebuilt
DISORDERED = 0.08
_DIGIT = re.compile(r'\d')
_DATE_OR_ID = re.compile(r'\d[/:]\d|\d{6}')


def disorder(fragments: tuple[Fragment, ...]) -> float:
    """The share of fragments (0..1) holding a result-like number that are drawn far from where they are read.

    A fragment's reading position is its rank top to bottom, left to right; it is *far* when its
    drawing position differs by more than an eighth of the page's fragments (at least 6). Only
    fragments with a number that is not a date, a time or a long id count: a header block drawn one
    column at a time (labels, then colons, then values) is common and harmless, while the numbers
    of a table are what a scrambled drawing order separates from their names. Row-by-row pages score
    near 0, cells placed in random order ~0.33, a table dumped one column at a time ~0.15. Pages with
    few fragments score 0: nothing to reorder.
    """
    n = len(fragments)
    if n < _MIN_FRAGMENTS:
        return 0.0
    # ranks top to bottom, then left to right: two stable C-keyed sorts instead of a Python key per fragment
    order = sorted(range(n), key=[f[0] for f in fragments].__getitem__)
    order.sort(key=[f[1] for f in fragments].__getitem__, reverse=True)
    limit = max(6.0, n / 8)
    far = 0
    for rank, i in enumerate(order):
        if abs(i - rank) > limit:
            text = fragments[i][3]
            if _DIGIT.search(text) is not None and _DATE_OR_ID.search(text) is None:
                far += 1
    return far / n


_WORD = re.compile(r'[A-Za-z]{2}')
_RANGE_OR_UNIT = re.compile(r'\d\s*[-–]\s*\.?\d|[<>≤≥]\s*=?\s*\d|/|%')


def row_like(lines: list[str]) -> int:
    """How many of ``lines`` are shaped like result rows (a cheap estimate, before any parsing): a word,
    later a number, then a range or a unit-like slash or percent. Three linear scans per line."""
    count = 0
    for line in lines:
        word = _WORD.search(line)
        if word is None:
            continue
        digit = _DIGIT.search(line, word.end())
        if digit is not None and _RANGE_OR_UNIT.search(line, digit.start()) is not None:
            count += 1
    return count


def clean_text(text: str) -> str:
    """Replace lone surrogates (hostile fonts map codes to them), which no UTF-8 encoder accepts."""
    if text.isascii():
        return text
    return text.encode('utf-16-le', 'surrogatepass').decode('utf-16-le', 'replace')


def _line_text(cells: list[Fragment]) -> str:
    cells.sort(key=_X)
    out: list[str] = []
    prev: Fragment | None = None
    for cell in cells:
        text = cell[3].strip()
        if prev is not None and out:
            # glyph-by-glyph text (one object per character) is glued back: the next glyph starts
            # within a character's advance of the previous one
            one = len(prev[3].strip()) == 1 or len(text) == 1
            if not (one and 0 <= cell[0] - prev[0] <= 0.8 * max(prev[2], cell[2])):
                out.append(' ')
        out.append(text)
        prev = cell
    return ''.join(out)


def reading_lines(fragments: tuple[Fragment, ...]) -> list[str]:
    """The page's text lines in reading order: fragments on one baseline (within half a line) form a line."""
    if not fragments:
        return []
    ordered = sorted(fragments, key=_X)
    ordered.sort(key=_Y, reverse=True)  # top to bottom; a stable sort keeps each baseline left to right
    lines: list[str] = []
    cells: list[Fragment] = [ordered[0]]
    top = ordered[0][1]
    for frag in ordered[1:]:
        if top - frag[1] <= 0.5 * max(frag[2], cells[0][2], 1.0):
            cells.append(frag)
            continue
        lines.append(_line_text(cells))
        cells, top = [frag], frag[1]
    lines.append(_line_text(cells))
    return [clean_text(line) for line in lines]  # fragments are kept as pypdf gave them: cleaned only if used
