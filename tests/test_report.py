"""The report PDF: renders from the stored result dict, reads back, copes with sparse input."""

from __future__ import annotations

import io
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from bloodq.analysis.compose import compose_result
from bloodq.analysis.interpret import interpret
from bloodq.analysis.model import Flag, LabResult, ParsedReport, Patient
from bloodq.report import render_report
from bloodq.report_table import bar_scale


def lab(name: str, key: str, value: float, unit: str, low: float | None, high: float | None,
        panel: str = 'Panel', ref_text: str = '') -> LabResult:
    """A parsed row flagged against its printed range."""
    flag: Flag | None = None
    if low is not None or high is not None:
        flag = 'low' if low is not None and value < low else 'high' if high is not None and value > high else 'normal'
    return LabResult(name, key, value, unit, low, high, ref_text, flag, panel, 1, '', 'printed')


ROWS = [
    lab('Haemoglobin', 'hemoglobin', 10.1, 'g/dL', 13, 17, 'Complete Blood Count'),
    lab('Mean Corpuscular Haemoglobin Concentration (MCHC), calculated', 'mchc', 31, 'g/dL', 32, 36,
        'Complete Blood Count'),
    lab('Platelet Count', 'platelets', 250, 'x10³/µL', 150, 410, 'Complete Blood Count'),
    lab('LDL Cholesterol', 'ldl', 172, 'mg/dL', None, 100, 'Lipid Profile', '< 100'),
    lab('HDL Cholesterol', 'hdl', 52, 'mg/dL', 40, None, 'Lipid Profile', '≥ 40'),
    lab('Creatinine', 'creatinine', 71, 'µmol/L', 62, 106, 'Kidney'),
    lab('Uric acid', 'uric_acid', 5.1, 'mg/dL', None, None, 'Kidney'),
    lab('25-OH Vitamin D', 'vitamin_d_25oh', 45, 'nmol/L', 75, 250, 'Vitamins'),
]


def result_for(rows: list[LabResult], query: str = 'Is my cholesterol ok?') -> dict[str, Any]:
    report = ParsedReport(rows, patient=Patient(48, 'female', '2024-03-05'))
    return compose_result(report, interpret(report, query), query=query, file_name='lab report.pdf',
                          processing_time_s=0.4)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return ' '.join(' '.join((page.extract_text() or '').split()) for page in reader.pages)


def test_pdf_renders_and_reads_back_with_every_result_and_micro_sign() -> None:
    """The PDF starts with %PDF, pypdf reads it, and it contains every result name and the µ sign."""
    pdf = render_report(result_for(ROWS))
    assert pdf.startswith(b'%PDF')
    text = text_of(pdf)
    for row in ROWS:
        assert row.name in text
    assert 'µ' in text and '≥ 40' in text
    assert 'lab report.pdf' in text and 'Page 1 of' in text and 'not a diagnosis' in text


def test_empty_results_render_too() -> None:
    """A report with no results still renders a PDF that says so."""
    pdf = render_report(result_for([], 'analyze my results'))
    assert pdf.startswith(b'%PDF')
    assert 'No lab results were found' in text_of(pdf)


def test_sparse_or_odd_dicts_do_not_break_rendering() -> None:
    """Missing keys, None values and odd types leave parts empty instead of failing."""
    results: list[dict[str, Any]] = [{}, {'results': None, 'findings': 'x', 'recommendations': []},
                   {'results': [{'name': 'Odd', 'value': None, 'flag': 'weird', 'ref_low': 'a'}, 'not a row'],
                    'patient': {'age': 'forty'}}]
    for result in results:
        assert render_report(result).startswith(b'%PDF')


def test_findings_and_recommendations_are_in_the_pdf() -> None:
    """Findings appear under their specialist with severity, and the advice sections follow."""
    result = result_for(ROWS)
    text = text_of(render_report(result))
    assert result['findings'], 'the sample should produce findings'
    for finding in result['findings']:
        assert ' '.join(finding['title'].split()) in text
    assert 'Findings by specialist' in text and 'Recommendations' in text and 'Nutrition' in text


@pytest.mark.parametrize(('low', 'high', 'expected'), [
    (13.0, 17.0, (11.0, 19.0, 13.0, 17.0)),
    (0.4, 4.0, (0.0, 5.8, 0.4, 4.0)),
    (None, 200.0, (0.0, 320.0, 0.0, 200.0)),
    (40.0, None, (0.0, 80.0, 40.0, 80.0)),
    (None, None, None),
    (5.0, 5.0, None),
])
def test_bar_scale_handles_two_one_and_no_sided_ranges(low: float | None, high: float | None,
                                                       expected: tuple[float, ...] | None) -> None:
    """The bar axis centres a two-sided range, starts one-sided ranges at zero, and skips missing ones."""
    got = bar_scale(low, high)
    assert got == (None if expected is None else pytest.approx(expected))


def test_sixty_row_report_renders_quickly() -> None:
    """A 60-row report renders well inside a generous bound (the budget is 150 ms on a quiet machine)."""
    rows = [lab(f'Marker {i}', f'marker_{i}', 10 + i % 7, 'mg/dL', 9, 14, f'Panel {i // 10}') for i in range(60)]
    result = result_for(rows, 'analyze my results')
    render_report(result)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        render_report(result)
        times.append(time.perf_counter() - started)
    assert statistics.median(times) < 0.6


def test_open_ended_range_stretches_to_fit_a_normal_value() -> None:
    """With only a lower bound, a normal value well above it stays inside the drawn band."""
    scale = bar_scale(59.0, None, 118.0)
    assert scale is not None and scale[1] > 118.0 and scale[2] == 59.0 and scale[3] == scale[1]


def shared_data() -> Path:
    """../shared/data as conftest.require_shared finds it (kept local so mypy need not follow conftest)."""
    folder = Path(__file__).resolve().parents[2] / 'shared' / 'data'
    if not folder.is_dir():
        if os.environ.get('CI'):
            pytest.fail(f'{folder} is missing in CI')
        pytest.skip('../shared/data is absent')
    return folder


def test_real_report_truth_rows_interpret_and_render() -> None:
    """The shared sample report's true rows (56 results) give sensible findings and a readable PDF."""
    truth = json.loads((shared_data() / 'blood_test_report.truth.json').read_text())
    rows = [LabResult(r['name'], r['canonical'], r['value'], r['unit'], r['ref_low'], r['ref_high'], r['ref_text'],
                      r['flag'], r.get('section', ''), r['page'], r.get('value_text', ''), 'printed')
            for r in truth['results']]
    p = truth['patient']
    report = ParsedReport(rows, patient=Patient(p['age'], p['sex'], p['collected']))
    interp = interpret(report, 'Summarise my blood test results')
    titles = [f.title for f in interp.findings]
    assert 'Raised ALP without raised liver enzymes or bilirubin' in titles
    assert not any(f.severity in ('critical', 'high') for f in interp.findings)
    egfr = next(d for d in interp.derived if d.canonical == 'egfr_calc')
    assert 'Cross-check only' in egfr.note
    result = compose_result(report, interp, query='q', file_name='blood_test_report.pdf', processing_time_s=1.0)
    text = text_of(render_report(result))
    for row in rows:
        assert row.name in text
