"""End-to-end accuracy: PDF -> pages -> rows, scored against truth files."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from conftest_reports import SHARED_PDF, report_fixtures, require_shared_report  # noqa: F401

from bloodq.analysis.extract import extract_pages
from bloodq.analysis.model import LabResult, ParsedReport
from bloodq.analysis.parser import parse_report
from bloodq.analysis.scoring import load_truth, score_report

LAYOUTS = ['indian_method', 'us_flags', 'uk_si', 'in_out_range', 'previous', 'dense_multi', 'two_column', 'eu_comma',
           'us_national', 'nhs_au', 'ref_block', 'column_dump', 'glued_flags', 'caps_status', 'two_half',
           'cumulative', 'scrambled', 'blank_dump', 'word_cells', 'wrapped_names', 'quest_style', 'comments',
           'labcorp_words']
FIXTURE_MIN = 0.98


def _score(truth_path: Path) -> tuple[float, list[str], str]:
    truth = load_truth(truth_path)
    pages = extract_pages((truth_path.parent / truth['file']).read_bytes())
    score = score_report(parse_report(pages), truth)
    return score.worst, score.problems, score.line()


def test_shared_report_is_perfect() -> None:
    """The real Lal PathLabs report: 100% recall, precision, units, ranges and flags (56 rows)."""
    truth_path = require_shared_report()
    truth = load_truth(truth_path)
    rep = parse_report(extract_pages(SHARED_PDF.read_bytes()))
    score = score_report(rep, truth)
    assert score.truth_rows == 56
    assert (score.recall, score.precision, score.unit_accuracy, score.range_accuracy, score.flag_accuracy) == (
        1.0, 1.0, 1.0, 1.0, 1.0), score.problems
    by_key = {(r.canonical, r.value): r for r in rep.results}
    for t in truth['results']:
        r = by_key[(t['canonical'], t['value'])]
        assert (r.name, r.ref_text, r.page, r.value_text) == (t['name'], t['ref_text'], t['page'], t['value_text'])


@pytest.mark.parametrize('layout', LAYOUTS)
def test_fixture_layout_accuracy(layout: str, report_fixtures: dict[str, Path]) -> None:  # noqa: F811
    """Every generated layout scores at least 98% on every figure."""
    worst, problems, line = _score(report_fixtures[layout])
    assert worst >= FIXTURE_MIN, (line, problems)


def test_every_generated_layout_is_scored(report_fixtures: dict[str, Path]) -> None:  # noqa: F811
    """No layout the generator writes escapes the accuracy check."""
    assert set(report_fixtures) == set(LAYOUTS)


def test_fixture_generation_is_deterministic(report_fixtures: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    """Generating the layouts twice gives the same truth files (seeded per layout)."""
    from make_reports import generate

    for path in generate(tmp_path):
        assert path.read_text(encoding='utf-8') == report_fixtures[path.name.removesuffix('.truth.json')].read_text(
            encoding='utf-8')


def test_pypdf_prints_the_column_dump_column_wise(report_fixtures: dict[str, Path]) -> None:  # noqa: F811
    """The column_dump fixture really comes out of pypdf one column at a time (names, then values ...)."""
    truth = load_truth(report_fixtures['column_dump'])
    lines = [ln.strip() for ln in extract_pages((report_fixtures['column_dump'].parent / truth['file']).read_bytes())[0]
             .splitlines()]
    names = [t['name'] for t in truth['results']]
    first, second = lines.index(names[0]), lines.index(names[1])
    assert second == first + 1  # two names on consecutive lines: no row was printed whole


def test_censored_and_rangeless_rows_follow_the_truth_schema(report_fixtures: dict[str, Path]) -> None:  # noqa: F811
    """'>90' eGFR without a range: value 90, flag null, ref_source 'none'; block ranges count as printed."""
    for layout in ('nhs_au', 'ref_block', 'glued_flags'):
        truth = load_truth(report_fixtures[layout])
        rep = parse_report(extract_pages((report_fixtures[layout].parent / truth['file']).read_bytes()))
        got = {(r.canonical or r.name, r.value): r for r in rep.results}
        for t in truth['results']:
            r = got[(t['canonical'] or t['name'], t['value'])]
            assert (r.value_text, r.flag) == (t['value_text'], t['flag'])
            assert r.ref_source == ('none' if t['ref_low'] is None and t['ref_high'] is None else 'printed')


def test_fixture_patients(report_fixtures: dict[str, Path]) -> None:  # noqa: F811
    """Age, sex and collection date are read from every layout's header (US layout has MM/DD dates)."""
    for truth_path in report_fixtures.values():
        truth = load_truth(truth_path)
        rep = parse_report(extract_pages((truth_path.parent / truth['file']).read_bytes()))
        p = truth['patient']
        assert (rep.patient.age, rep.patient.sex, rep.patient.collected) == (p['age'], p['sex'], p['collected'])


def _row(name: str, value: float, unit: str = 'g/dL', canonical: str = 'x') -> LabResult:
    return LabResult(name, canonical, value, unit, 1.0, 2.0, '1 - 2', 'normal')


def _truth_row(name: str, value: float, unit: str = 'g/dL', canonical: str = 'x') -> dict[str, object]:
    return {'name': name, 'canonical': canonical, 'value': value, 'value_text': str(value), 'unit': unit,
            'ref_low': 1.0, 'ref_high': 2.0, 'ref_text': '1 - 2', 'flag': 'normal', 'page': 1}


def test_scorer_counts_misses_extras_and_field_errors() -> None:
    """Recall drops for missed rows, precision for extra rows; field accuracy uses matched rows only."""
    truth = {'id': 't', 'results': [_truth_row('A', 1.5, canonical='a'), _truth_row('B', 1.7, canonical='b')]}
    perfect = ParsedReport([_row('A', 1.5, canonical='a'), _row('B', 1.7, canonical='b')])
    assert score_report(perfect, truth).worst == 1.0
    wrong = ParsedReport([_row('A', 1.5, unit='mg/dL', canonical='a'), _row('C', 9.0, canonical='c')])
    s = score_report(wrong, truth)
    assert (s.recall, s.precision, s.unit_accuracy) == (0.5, 0.5, 0.0)


def test_scorer_uses_unit_for_duplicate_names() -> None:
    """Two rows named 'Lymphocytes' with the same value are told apart by the unit."""
    t_pct = _truth_row('Lymphocytes', 2.0, unit='%', canonical='')
    t_abs = _truth_row('Lymphocytes', 2.0, unit='thou/mm3', canonical='')
    truth = {'id': 't', 'results': [t_pct, t_abs]}
    rows = [_row('Lymphocytes', 2.0, unit='thou/mm3', canonical=''), _row('Lymphocytes', 2.0, unit='%', canonical='')]
    s = score_report(ParsedReport(rows), truth)
    assert (s.matched, s.unit_accuracy) == (2, 1.0)
    flipped = copy.deepcopy(truth)
    flipped['results'][0]['unit'] = 'mg/dL'
    assert score_report(ParsedReport(rows), flipped).unit_accuracy == 0.5


def test_scrambled_and_blank_dump_fixtures_defeat_the_plain_text_order(report_fixtures: dict[str, Path]) -> None:  # noqa: F811
    """pypdf's plain text of these layouts does not hold their rows: no truth row's name and value share a line."""
    for layout in ('blank_dump', 'scrambled', 'labcorp_words'):
        truth = load_truth(report_fixtures[layout])
        first = extract_pages((report_fixtures[layout].parent / truth['file']).read_bytes())[0]
        lines = first.splitlines()
        rows = [t for t in truth['results'] if t['page'] == 1]
        together = [t['name'] for t in rows if any(t['name'] in ln and t['value_text'] in ln for ln in lines)]
        assert len(together) <= len(rows) // 4, (layout, together)
