"""Render a finished job's result dict as a patient-friendly PDF.

Works from the stored JSON form only (``compose_result``'s dict), so a report can be rendered
again later from a stored result. Every key is read defensively: a missing or oddly typed field
leaves its part of the page empty rather than failing the render.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bloodq.report_style import (
    BRAND,
    FLAG_COLOURS,
    MARGIN,
    MUTED,
    SEVERITY_COLOURS,
    SPECIALTY_TITLES,
    TEXT,
    WIDTH,
    ReportPDF,
    as_float,
    clip_text,
    fmt_value,
    para,
    rule,
    section,
    style,
    wrap,
)
from bloodq.report_table import results_table

__all__ = ['render_report']

_SEVERITY_ORDER = ('critical', 'high', 'moderate', 'low', 'info')


def _rows(value: Any) -> list[Mapping[str, Any]]:
    return [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value if v] if isinstance(value, list) else []


def _patient_text(patient: Any) -> str:
    if not isinstance(patient, Mapping):
        return ''
    parts = []
    age = as_float(patient.get('age'))
    if age is not None:
        parts.append(f'{age:g} years')
    if patient.get('sex') in ('male', 'female'):
        parts.append(str(patient['sex']))
    if patient.get('collected'):
        parts.append(f'collected {patient["collected"]}')
    return ', '.join(parts)


def _header(pdf: ReportPDF, result: Mapping[str, Any]) -> None:
    pdf.set_y(MARGIN)
    style(pdf, 22, BRAND, bold=True)
    pdf.cell(pdf.get_string_width('bloodq') + 3, 10, 'bloodq')
    style(pdf, 13, TEXT)
    pdf.cell(100, 10.8, 'Blood test report summary')
    style(pdf, 8, MUTED)
    pdf.set_x(MARGIN)
    pdf.cell(WIDTH, 10, f'Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC', align='R', new_x='LMARGIN',
             new_y='NEXT')
    meta = [('Report', str(result.get('file_processed') or 'unnamed report'))]
    patient = _patient_text(result.get('patient'))
    if patient:
        meta.append(('Patient', patient))
    x = MARGIN
    for label, text in meta:
        style(pdf, 8.5, MUTED)
        pdf.set_x(x)
        pdf.cell(pdf.get_string_width(label + ':') + 1.5, 5, label + ':')
        style(pdf, 8.5, TEXT, bold=True)
        width = min(pdf.get_string_width(text) + 4, WIDTH - (pdf.get_x() - MARGIN))
        pdf.cell(width, 5, clip_text(pdf, text, width))
        x = pdf.get_x() + 6
    pdf.ln(6.5)
    rule(pdf, pdf.get_y(), BRAND)
    pdf.ln(3)


def _summary_box(pdf: ReportPDF, result: Mapping[str, Any]) -> None:
    rows = _rows(result.get('results'))
    abnormal = [r for r in rows if r.get('flag') in ('high', 'low')]
    critical = [str(f.get('title')) for f in _rows(result.get('findings')) if f.get('severity') == 'critical']
    if not rows:
        colour, title = (108, 117, 125), 'No lab results were found in this document.'
    elif abnormal:
        colour = (196, 50, 40) if critical else (214, 120, 14)
        title = f'{len(abnormal)} of {len(rows)} results are outside the printed reference range'
    else:
        unranged = sum(1 for r in rows if r.get('flag') not in ('low', 'high', 'normal'))
        colour = (36, 138, 78)
        title = (f'All {len(rows)} results are within the printed reference ranges' if not unranged else
                 f'No result is outside its printed range ({unranged} of {len(rows)} '
                 f'{"has" if unranged == 1 else "have"} no range printed)')
    shown = abnormal[:16]
    n_lines = (len(shown) + 1) // 2 + (1 if len(abnormal) > len(shown) else 0)
    urgent_h = 0.0
    urgent = 'Needs prompt review: ' + '; '.join(critical)
    if critical:
        style(pdf, 8.5, TEXT, bold=True)
        urgent_h = 4.2 * len(wrap(pdf, urgent, WIDTH - 10)) + 1.5
    height = 11 + n_lines * 4.6 + urgent_h + (1.5 if n_lines else 0)
    top = pdf.get_y()
    pdf.set_fill_color(*(255 - (255 - c) // 10 for c in colour))  # a tint of the frame colour
    pdf.set_draw_color(*colour)
    pdf.set_line_width(0.4)
    pdf.rect(MARGIN, top, WIDTH, height, style='DF', round_corners=True, corner_radius=2)
    pdf.set_fill_color(*colour)
    pdf.rect(MARGIN, top, 2.2, height, style='F')
    style(pdf, 10.5, colour, bold=True)
    pdf.set_xy(MARGIN + 5, top + 3)
    pdf.cell(WIDTH - 10, 5.5, title, new_x='LMARGIN', new_y='NEXT')
    y = top + 10
    if critical:
        style(pdf, 8.5, FLAG_COLOURS['high'], bold=True)
        pdf.set_y(y)
        para(pdf, urgent, WIDTH - 10, 4.2, MARGIN + 5)
        y += urgent_h
    col_w = (WIDTH - 10) / 2
    for i, r in enumerate(shown):
        flag = str(r.get('flag'))
        pdf.set_xy(MARGIN + 5 + (i % 2) * col_w, y + (i // 2) * 4.6)
        style(pdf, 8.5, FLAG_COLOURS[flag], bold=True)
        pdf.cell(5, 4.6, '▲' if flag == 'high' else '▼')
        style(pdf, 8.5, TEXT)
        value = str(r.get('value_text') or '') or fmt_value(r.get('value'))
        text = f'{r.get("name", "")}  {value} {r.get("unit") or ""}'.strip()
        pdf.cell(col_w - 6, 4.6, clip_text(pdf, text, col_w - 6))
    if len(abnormal) > len(shown):
        style(pdf, 8, MUTED)
        pdf.set_xy(MARGIN + 5, y + ((len(shown) + 1) // 2) * 4.6)
        pdf.cell(WIDTH - 10, 4.6, f'… and {len(abnormal) - len(shown)} more, listed in the table below.')
    pdf.set_xy(MARGIN, top + height + 2)


def _reflow(text: str) -> list[tuple[float, bool, str]]:
    """Undo the terminal wrapping of the answer: (indent mm, is bullet, paragraph text)."""
    items: list[tuple[float, bool, str]] = []
    cont_indent = -1
    for line in text.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if not stripped:
            items.append((0.0, False, ''))
            cont_indent = -1
        elif stripped.startswith('• '):
            items.append((indent * 1.6, True, stripped[2:]))
            cont_indent = indent + 2
        elif indent == cont_indent and items and not items[-1][2].endswith(':'):
            ind, bullet, prev = items[-1]
            items[-1] = (ind, bullet, f'{prev} {stripped}')
        else:
            items.append((indent * 1.6, False, stripped))
            cont_indent = indent
    return items


def _answer(pdf: ReportPDF, result: Mapping[str, Any]) -> None:
    answer = str(result.get('answer') or '').strip()
    if not answer:
        return
    section(pdf, 'Your question')
    query = str(result.get('query') or '').strip()
    if query:
        style(pdf, 9.5, BRAND, bold=True)
        para(pdf, f'“{query}”', WIDTH, 5)
        pdf.ln(1.5)
    for indent, bullet, text in _reflow(answer):
        if not text:
            pdf.ln(1.8)
            continue
        heading = text.endswith(':') and not bullet
        urgent = text.startswith('Important:')
        style(pdf, 8.8, FLAG_COLOURS['high'] if urgent else TEXT, bold=heading or urgent)
        if bullet:
            pdf.set_x(MARGIN + indent)
            pdf.cell(3.5, 4.4, '•')
        para(pdf, text, WIDTH - indent - (3.5 if bullet else 0), 4.4, MARGIN + indent + (3.5 if bullet else 0))


def _pill(pdf: ReportPDF, severity: str, x: float, y: float) -> float:
    """A coloured severity label; returns its width."""
    style(pdf, 6.3, (255, 255, 255), bold=True)
    label = severity.upper()
    w = pdf.get_string_width(label) + 3.6
    pdf.set_fill_color(*SEVERITY_COLOURS.get(severity, MUTED))
    pdf.rect(x, y + 0.6, w, 3.8, style='F', round_corners=True, corner_radius=1.2)
    pdf.set_xy(x, y + 0.6)
    pdf.cell(w, 3.8, label, align='C')
    return w


def _findings(pdf: ReportPDF, result: Mapping[str, Any]) -> None:
    findings = _rows(result.get('findings'))
    names = {str(r.get('canonical')): str(r.get('name')) for r in _rows(result.get('results')) if r.get('canonical')}
    if not findings:
        section(pdf, 'Findings by specialist')
        style(pdf, 9, TEXT)
        para(pdf, 'Nothing to flag: no result forms a pattern that a specialist would comment on.', WIDTH, 4.6)
        return
    rank = {s: i for i, s in enumerate(_SEVERITY_ORDER)}
    best: dict[str, int] = {}
    for f in findings:
        sp = str(f.get('specialty') or 'general')
        best[sp] = min(best.get(sp, 9), rank.get(str(f.get('severity')), 9))
    order = sorted(best, key=lambda s: best[s])
    first = next(f for f in findings if str(f.get('specialty') or 'general') == order[0])
    section(pdf, 'Findings by specialist', need=9 + _layout(pdf, first, names)[0])
    for specialty in order:
        mine = [f for f in findings if str(f.get('specialty') or 'general') == specialty]
        # the heading must not be left alone at the foot of a page
        if pdf.will_page_break(7.5 + _layout(pdf, mine[0], names)[0]):
            pdf.add_page()
        pdf.ln(1.5)
        style(pdf, 10, BRAND, bold=True)
        pdf.cell(WIDTH, 6, SPECIALTY_TITLES.get(specialty, specialty.capitalize()), new_x='LMARGIN', new_y='NEXT')
        for f in mine:
            _finding(pdf, f, names)


_Block = tuple[float, float, list[str], list[str], list[str]]


def _layout(pdf: ReportPDF, f: Mapping[str, Any], names: Mapping[str, str]) -> _Block:
    """(height, pill width, title lines, detail lines, based-on lines) of one finding."""
    severity = str(f.get('severity') or 'info')
    style(pdf, 6.3, bold=True)
    pill_w = pdf.get_string_width(severity.upper()) + 3.6
    style(pdf, 9, TEXT, bold=True)
    title = wrap(pdf, str(f.get('title') or ''), WIDTH - pill_w - 3)
    style(pdf, 8.5, TEXT)
    detail = wrap(pdf, str(f.get('detail') or ''), WIDTH - 4)
    markers = [names.get(m, m) for m in _strings(f.get('markers'))]
    style(pdf, 7.3, MUTED)
    based = wrap(pdf, 'Based on: ' + ', '.join(markers), WIDTH - 4) if markers else []
    return 5 * len(title) + 4.3 * len(detail) + 3.8 * len(based) + 2, pill_w, title, detail, based


def _finding(pdf: ReportPDF, f: Mapping[str, Any], names: Mapping[str, str]) -> None:
    """Severity pill, bold title, detail and the markers it rests on, kept on one page."""
    height, pill_w, title, detail, based = _layout(pdf, f, names)
    if pdf.will_page_break(height):
        pdf.add_page()
    y = pdf.get_y()
    _pill(pdf, str(f.get('severity') or 'info'), MARGIN + 1, y)
    for lines, size, colour, bold, line_h, x in ((title, 9, TEXT, True, 5, MARGIN + pill_w + 3),
                                                 (detail, 8.5, TEXT, False, 4.3, MARGIN + 4),
                                                 (based, 7.3, MUTED, False, 3.8, MARGIN + 4)):
        style(pdf, size, colour, bold)
        pdf.set_y(y)
        for line in lines:
            pdf.set_x(x)
            pdf.cell(WIDTH - (x - MARGIN), line_h, line, new_x='LMARGIN', new_y='NEXT')
        y = pdf.get_y()
    pdf.ln(2)


def _derived(pdf: ReportPDF, result: Mapping[str, Any]) -> None:
    derived = _rows(result.get('derived'))
    if not derived:
        return
    section(pdf, 'Calculated values')
    for d in derived:
        value = f'{fmt_value(d.get("value"))} {d.get("unit") or ""}'.strip()
        if pdf.will_page_break(9):
            pdf.add_page()
        y = pdf.get_y()
        style(pdf, 8.5, TEXT, bold=True)
        para(pdf, str(d.get('name') or ''), 58, 4.3)
        bottom = pdf.get_y()
        pdf.set_xy(MARGIN + 58, y)
        pdf.cell(40, 4.3, clip_text(pdf, value, 40))
        style(pdf, 7.8, MUTED)
        pdf.set_y(y + 0.2)
        para(pdf, str(d.get('note') or ''), WIDTH - 98, 4.0, MARGIN + 98)
        pdf.set_y(max(pdf.get_y(), bottom) + 1.2)


def _recommendations(pdf: ReportPDF, result: Mapping[str, Any]) -> None:
    recs = result.get('recommendations')
    if not isinstance(recs, Mapping) or not any(_strings(recs.get(k)) for k in recs):
        return
    section(pdf, 'Recommendations')
    for key, label in (('nutrition', 'Nutrition'), ('exercise', 'Exercise'), ('follow_up', 'Follow-up')):
        items = _strings(recs.get(key))
        if not items:
            continue
        if pdf.will_page_break(14):
            pdf.add_page()
        style(pdf, 9.5, BRAND, bold=True)
        pdf.cell(WIDTH, 5.5, label, new_x='LMARGIN', new_y='NEXT')
        for item in items:
            style(pdf, 8.6, TEXT)
            lines = wrap(pdf, item, WIDTH - 5.5)
            if pdf.will_page_break(4.4 * len(lines)):
                pdf.add_page()
            pdf.set_x(MARGIN + 2)
            pdf.cell(3.5, 4.4, '•')
            for line in lines:
                pdf.set_x(MARGIN + 5.5)
                pdf.cell(WIDTH - 5.5, 4.4, line, new_x='LMARGIN', new_y='NEXT')
        pdf.ln(1.5)


def _disclaimer(pdf: ReportPDF, result: Mapping[str, Any]) -> None:
    text = str(result.get('disclaimer') or '').strip() or (
        'This summary is generated automatically and is not a diagnosis. Discuss your results with a clinician.')
    style(pdf, 7.8, MUTED)
    lines = wrap(pdf, text, WIDTH - 8)
    height = 3.9 * len(lines) + 10
    if pdf.will_page_break(height + 4):
        pdf.add_page()
    pdf.ln(4)
    top = pdf.get_y()
    pdf.set_fill_color(244, 245, 247)
    pdf.rect(MARGIN, top, WIDTH, height, style='F', round_corners=True, corner_radius=2)
    style(pdf, 8.5, TEXT, bold=True)
    pdf.set_xy(MARGIN + 4, top + 2.5)
    pdf.cell(WIDTH - 8, 4.5, 'Important', new_x='LMARGIN', new_y='NEXT')
    style(pdf, 7.8, MUTED)
    for line in lines:
        pdf.set_x(MARGIN + 4)
        pdf.cell(WIDTH - 8, 3.9, line, new_x='LMARGIN', new_y='NEXT')


def render_report(result: dict[str, Any]) -> bytes:
    """The PDF (bytes) for a job's final result dict: summary, results table, findings, advice."""
    pdf = ReportPDF(str(result.get('file_processed') or 'report'))
    pdf.add_page()
    _header(pdf, result)
    _summary_box(pdf, result)
    _answer(pdf, result)
    rows = _rows(result.get('results'))
    if rows:
        section(pdf, 'Your results', need=30)
        style(pdf, 7.5, MUTED)
        para(pdf, 'Green band: the printed reference range. Dot: your value (green within range, red above, blue '
             'below; an arrow means off the scale).', WIDTH, 3.8)
        pdf.ln(1.5)
        results_table(pdf, rows)
        _findings(pdf, result)
        _derived(pdf, result)
    _recommendations(pdf, result)
    _disclaimer(pdf, result)
    return bytes(pdf.output())
