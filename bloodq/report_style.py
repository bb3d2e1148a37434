"""Shared look of the report PDF: the document class, fonts, colours and small drawing helpers."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import TTFFont

FONT_DIR = Path(__file__).resolve().parent / 'fonts'
FAMILY = 'dejavu'
MARGIN = 15.0
WIDTH = 180.0  # A4 width minus both margins

RGB = tuple[int, int, int]
BRAND: RGB = (18, 84, 110)
TEXT: RGB = (33, 37, 41)
MUTED: RGB = (108, 117, 125)
RULE: RGB = (210, 215, 220)
ZEBRA: RGB = (247, 249, 250)
TRACK: RGB = (233, 236, 239)
BAND: RGB = (199, 232, 208)
FLAG_COLOURS: dict[str, RGB] = {'high': (196, 50, 40), 'low': (28, 98, 186), 'normal': (36, 138, 78)}
NO_FLAG: RGB = (140, 146, 152)
SEVERITY_COLOURS: dict[str, RGB] = {'critical': (140, 16, 16), 'high': (200, 55, 40), 'moderate': (214, 120, 14),
                                    'low': (176, 140, 10), 'info': (96, 118, 140)}
SPECIALTY_TITLES: dict[str, str] = {
    'haematology': 'Haematology (blood count)', 'metabolic': 'Metabolic (blood sugar)',
    'lipids': 'Lipids (cholesterol)', 'liver': 'Liver', 'kidney': 'Kidney', 'thyroid': 'Thyroid',
    'iron': 'Iron stores', 'vitamins': 'Vitamins', 'inflammation': 'Inflammation',
    'electrolytes': 'Electrolytes and minerals', 'general': 'Other results',
}


class ReportPDF(FPDF):
    """A4 portrait with a running header after page 1 and page numbers in the footer."""

    def __init__(self, file_name: str) -> None:
        super().__init__(orientation='P', unit='mm', format='A4')
        self.file_name = file_name
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=18)
        self.set_compression(True)
        self.c_margin = 1.2
        # only regular and bold are needed; each face parsed costs ~30 ms
        self.add_font(FAMILY, '', str(FONT_DIR / 'DejaVuSans.ttf'))
        self.add_font(FAMILY, 'B', str(FONT_DIR / 'DejaVuSans-Bold.ttf'))
        for font in self.fonts.values():
            if not isinstance(font, TTFFont):
                continue
            # the subset keeps glyphs as they are: recomputing their bounding boxes would decode and
            # re-encode every outline (a third of the rendering time) to get the same numbers back
            font.ttfont.recalcBBoxes = False
        self.set_title('Blood test report summary')
        self.set_creator('bloodq')
        self.set_creation_date(datetime.now(UTC))

    def header(self) -> None:
        """A small running header on every page after the first (page 1 has the big one)."""
        if self.page_no() == 1:
            return
        self.set_y(8)
        style(self, 7.5, MUTED)
        self.cell(WIDTH / 2, 4, clip_text(self, f'bloodq · {self.file_name}', WIDTH / 2))
        self.cell(WIDTH / 2, 4, 'Blood test report summary', align='R')
        rule(self, 12.5)
        self.set_y(16)

    def footer(self) -> None:
        """The not-a-diagnosis reminder and 'Page n of N'."""
        self.set_y(-12)
        rule(self, self.get_y() - 1)
        style(self, 7.5, MUTED)
        self.cell(WIDTH * 0.75, 5, 'Automated summary of printed results, not a diagnosis: discuss it with a clinician.')
        self.cell(WIDTH * 0.25, 5, f'Page {self.page_no()} of {{nb}}', align='R')


def style(pdf: FPDF, size: float, colour: RGB = TEXT, bold: bool = False) -> None:
    """Set font size, weight and text colour in one call."""
    pdf.set_font(FAMILY, 'B' if bold else '', size)
    pdf.set_text_color(*colour)


def rule(pdf: FPDF, y: float, colour: RGB = RULE) -> None:
    """A thin horizontal line across the text width."""
    pdf.set_draw_color(*colour)
    pdf.set_line_width(0.2)
    pdf.line(MARGIN, y, MARGIN + WIDTH, y)


def clip_text(pdf: FPDF, text: str, width: float) -> str:
    """``text`` shortened with an ellipsis so it fits ``width`` mm in the current font."""
    room = width - 2 * pdf.c_margin
    if pdf.get_string_width(text) <= room:
        return text
    while text and pdf.get_string_width(text + '…') > room:
        text = text[:-1]
    return text + '…'


#: (font key, size pt, word) -> width mm; words repeat across reports, so this stays small
_WIDTHS: dict[tuple[str, float, str], float] = {}


def _width(pdf: FPDF, word: str) -> float:
    key = (pdf.font_family + pdf.font_style, pdf.font_size_pt, word)
    width = _WIDTHS.get(key)
    if width is None:
        if len(_WIDTHS) > 50_000:
            _WIDTHS.clear()
        width = _WIDTHS[key] = pdf.get_string_width(word)
    return width


def wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """Greedy word wrap for the current font.

    fpdf2's ``multi_cell`` line breaker is quadratic in line length and took most of the render
    time; measuring each word once (and caching it) is linear and fast enough for 150 ms.
    """
    room = width - 2 * pdf.c_margin
    space = _width(pdf, ' ')
    out: list[str] = []
    for paragraph in text.split('\n'):
        line: list[str] = []
        used = 0.0
        for word in paragraph.split():
            w = _width(pdf, word)
            while w > room and len(word) > 1:  # a word wider than the column is cut by characters
                cut = len(word) - 1
                while cut > 1 and _width(pdf, word[:cut]) > room:
                    cut -= 1
                if line:
                    out.append(' '.join(line))
                    line, used = [], 0.0
                out.append(word[:cut])
                word = word[cut:]
                w = _width(pdf, word)
            if line and used + space + w > room:
                out.append(' '.join(line))
                line, used = [], 0.0
            used += (space if line else 0.0) + w
            line.append(word)
        out.append(' '.join(line))
    return out


def para(pdf: FPDF, text: str, width: float, line_h: float, x: float | None = None, align: str = 'L') -> None:
    """Write wrapped text line by line from ``x`` (default: left margin); page breaks keep ``x``."""
    left = MARGIN if x is None else x
    for line in wrap(pdf, text, width):
        pdf.set_x(left)
        pdf.cell(width, line_h, line, align=align, new_x='LMARGIN', new_y='NEXT')


def section(pdf: FPDF, title: str, need: float = 20.0) -> None:
    """A section heading; starts a new page when fewer than ``need`` mm would follow it."""
    if pdf.will_page_break(need + 14):
        pdf.add_page()
    else:
        pdf.ln(4)
    style(pdf, 12, BRAND, bold=True)
    pdf.cell(WIDTH, 7, title, new_x='LMARGIN', new_y='NEXT')
    rule(pdf, pdf.get_y(), BRAND)
    pdf.ln(2)


def fmt_value(value: Any) -> str:
    """A number as a report would print it; text passes through."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value) if value is not None else ''
    v = float(value)
    if abs(v) >= 100:
        return f'{v:.0f}'
    if abs(v) >= 10:
        return f'{v:.1f}'.rstrip('0').rstrip('.')
    return f'{v:.2f}'.rstrip('0').rstrip('.')


def as_float(value: Any) -> float | None:
    """``value`` as a float when it is a real number (not bool, not NaN), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    v = float(value)
    return v if math.isfinite(v) else None
