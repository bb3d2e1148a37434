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
from typing import Self

__all__ = ['DISORDERED', 'Fragment', 'PageText', 'disorder', 'reading_lines', 'row_like']

#: (x, y, font size, text) in PDF user space: y grows up the page
Fragment = tuple[float, float, float, str]


class PageText(str):
    """A page's plain text (it *is* the string) plus the positioned fragments drawn on the page."""

    fragments: tuple[Fragment, ...] = ()

    def __new__(cls, text: str, fragments: tuple[Fragment, ...] = ()) -> Self:
        """The text ``text`` carrying ``fragments`` (drawing order)."""
        page = super().__new__(cls, text)
        page.fragments = fragments
        return page


_MIN_FRAGMENTS = 12
#: pages with at least this share of fragments drawn far from their reading position are worth rebuilding
DISORDERED = 0.2


def disorder(fragments: tuple[Fragment, ...]) -> float:
    """The share of fragments (0..1) drawn far from where they are read.

    A fragment's reading position is its rank top to bottom, left to right; it is *far* when its
    drawing position differs by more than an eighth of the page's fragments (at least 6). A page
    drawn row by row scores near 0 even when each row draws its cells in its own order or a footer
    is drawn first (a few fragments); cells placed in random order (~0.6) or a table dumped one
    column at a time (~0.35) score high. Pages with few fragments score 0: nothing to reorder.
    """
    n = len(fragments)
    if n < _MIN_FRAGMENTS:
        return 0.0
    order = sorted(range(n), key=lambda i: (-fragments[i][1], fragments[i][0]))
    limit = max(6.0, n / 8)
    return sum(1 for rank, i in enumerate(order) if abs(i - rank) > limit) / n


# a line shaped like a result row: a word, later a number, then a range or a unit-like slash or percent
_ROW_LIKE = re.compile(r'[A-Za-z]{2}.*?\d(?:.*?(?:\d\s*[-–]\s*\.?\d|[<>≤≥]\s*=?\s*\d|/|%))')


def row_like(lines: list[str]) -> int:
    """How many of ``lines`` are shaped like result rows (a cheap estimate, before any parsing)."""
    search = _ROW_LIKE.search
    return sum(1 for line in lines if search(line))


def _line_text(cells: list[Fragment]) -> str:
    cells.sort(key=lambda c: c[0])
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
    ordered = sorted(fragments, key=lambda f: (-f[1], f[0]))
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
    return lines
