"""The results table of the report PDF: one row per result with a range bar."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fpdf import FPDF

from bloodq.report_style import (
    BAND,
    FLAG_COLOURS,
    MARGIN,
    MUTED,
    NO_FLAG,
    RULE,
    TEXT,
    TRACK,
    WIDTH,
    ZEBRA,
    as_float,
    fmt_value,
    style,
    wrap,
)

#: (title, width mm, alignment)
COLUMNS = (('Test', 50.0, 'L'), ('Result', 18.0, 'R'), ('Unit', 20.0, 'L'), ('Reference', 30.0, 'L'),
           ('Flag', 16.0, 'L'), ('Where it falls', 46.0, 'C'))
LINE_H = 3.6
FONT = 7.8
FLAG_TEXT = {'high': 'High ▲', 'low': 'Low ▼', 'normal': 'Normal'}


def _range_text(row: Mapping[str, Any]) -> str:
    text = str(row.get('ref_text') or '').strip()
    if text:
        return ' '.join(text.split())
    lo, hi = as_float(row.get('ref_low')), as_float(row.get('ref_high'))
    if lo is not None and hi is not None:
        return f'{fmt_value(lo)}–{fmt_value(hi)}'
    if hi is not None:
        return f'≤ {fmt_value(hi)}'
    if lo is not None:
        return f'≥ {fmt_value(lo)}'
    return '—'


def bar_scale(lo: float | None, hi: float | None, value: float | None = None) -> tuple[float, float, float, float] | None:
    """(axis min, axis max, band start, band end) for a range, or None without one.

    A two-sided range sits in the middle half of the axis; a one-sided range gets an axis from
    zero so that ``< 200`` and ``> 40`` still show where the value falls.
    """
    if lo is not None and hi is not None and hi > lo:
        span = hi - lo
        axis_lo = lo - span / 2
        # a negative axis for a non-negative quantity only wastes bar space
        return (max(axis_lo, 0.0) if lo >= 0 else axis_lo), hi + span / 2, lo, hi
    if hi is not None and hi > 0 and lo is None:
        return 0.0, hi * 1.6, 0.0, hi
    if lo is not None and lo > 0 and hi is None:
        # an open-ended range: stretch the axis so a normal value sits inside the band, not on its edge
        top = max(lo * 2.0, value * 1.15) if value is not None and value < lo * 20 else lo * 2.0
        return 0.0, top, lo, top
    return None


def draw_bar(pdf: FPDF, x: float, y: float, w: float, value: float | None, lo: float | None, hi: float | None,
             flag: str | None) -> None:
    """Track, shaded reference band, and a dot (or an edge arrow when off the scale) for the value."""
    scale = bar_scale(lo, hi, value)
    if scale is None or value is None:
        style(pdf, 6.5, MUTED)
        pdf.set_xy(x, y - 1.6)
        pdf.cell(w, 3.2, 'no range printed' if value is not None else '', align='C')
        return
    axis_lo, axis_hi, band_lo, band_hi = scale
    pad = 2.0  # room for the dot at either end
    x0, x1 = x + pad, x + w - pad

    def pos(v: float) -> float:
        return x0 + (x1 - x0) * (v - axis_lo) / (axis_hi - axis_lo)

    pdf.set_fill_color(*TRACK)
    pdf.rect(x0, y - 1.1, x1 - x0, 2.2, style='F', round_corners=True, corner_radius=1.1)
    pdf.set_fill_color(*BAND)
    pdf.rect(pos(band_lo), y - 1.1, pos(band_hi) - pos(band_lo), 2.2, style='F')
    colour = FLAG_COLOURS.get(flag or '', NO_FLAG)
    pdf.set_fill_color(*colour)
    pdf.set_draw_color(255, 255, 255)
    pdf.set_line_width(0.3)
    if value > axis_hi or value < axis_lo:
        tip = x1 + pad * 0.9 if value > axis_hi else x0 - pad * 0.9
        base = x1 - 0.4 if value > axis_hi else x0 + 0.4
        pdf.polygon([(base, y - 1.7), (tip, y), (base, y + 1.7)], style='F')
    else:
        pdf.circle(pos(value), y, 1.45, style='FD')


def _header_row(pdf: FPDF) -> None:
    style(pdf, 7.2, MUTED, bold=True)
    pdf.set_fill_color(236, 240, 243)
    pdf.set_x(MARGIN)
    for title, width, align in COLUMNS:
        pdf.cell(width, 5.5, title, align=align if align != 'R' else 'R', fill=True)
    pdf.ln(5.5)


def _lines(pdf: FPDF, width: float, text: str, bold: bool = False) -> list[str]:
    style(pdf, FONT, TEXT, bold)
    return wrap(pdf, text, width)


def results_table(pdf: FPDF, rows: list[Mapping[str, Any]]) -> None:
    """Every result with value, unit, printed range, flag and a bar; panel sub-headings when known."""
    _header_row(pdf)
    panel_seen: str | None = None
    show_panels = len({str(r.get('panel') or '') for r in rows}) > 1
    for index, row in enumerate(rows):
        panel = str(row.get('panel') or '')
        flag = row.get('flag')
        flag = flag if isinstance(flag, str) else None
        abnormal = flag in ('high', 'low')
        name_lines = _lines(pdf, COLUMNS[0][1], str(row.get('name') or ''), abnormal)
        range_lines = _lines(pdf, COLUMNS[3][1], _range_text(row))
        unit_lines = _lines(pdf, COLUMNS[2][1], str(row.get('unit') or ''))
        height = max(len(name_lines), len(range_lines), len(unit_lines), 1) * LINE_H + 2.0
        heading = show_panels and panel and panel != panel_seen
        if pdf.will_page_break(height + (6 if heading else 0)):
            pdf.add_page()
            _header_row(pdf)
        if heading:
            style(pdf, 7.5, MUTED, bold=True)
            pdf.set_x(MARGIN)
            pdf.cell(WIDTH, 5.5, panel.upper(), new_x='LMARGIN', new_y='NEXT')
            panel_seen = panel
        y = pdf.get_y()
        if index % 2:
            pdf.set_fill_color(*ZEBRA)
            pdf.rect(MARGIN, y, WIDTH, height, style='F')
        x = MARGIN
        value_text = str(row.get('value_text') or '') or fmt_value(row.get('value'))
        texts = (name_lines, [value_text], unit_lines, range_lines, [FLAG_TEXT.get(flag or '', '—')])
        for i, (lines, (_, width, align)) in enumerate(zip(texts, COLUMNS[:5], strict=True)):
            colour = FLAG_COLOURS[flag] if abnormal and i in (1, 4) and flag else (MUTED if i in (2, 3) else TEXT)
            style(pdf, FONT, colour, bold=abnormal and i in (0, 1, 4))
            for n, line in enumerate(lines):
                pdf.set_xy(x, y + 1.0 + n * LINE_H)
                pdf.cell(width, LINE_H, line, align=align)
            x += width
        draw_bar(pdf, x, y + height / 2, COLUMNS[5][1], as_float(row.get('value')),
                 as_float(row.get('ref_low')), as_float(row.get('ref_high')), flag)
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.1)
        pdf.line(MARGIN, y + height, MARGIN + WIDTH, y + height)
        pdf.set_xy(MARGIN, y + height)
