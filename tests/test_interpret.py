"""Interpretation: patterns across markers, units, derived values, query routing, edge cases."""

from __future__ import annotations

import orjson
import pytest

from bloodq.analysis.compose import compose_result
from bloodq.analysis.conversions import to_standard
from bloodq.analysis.derived import ckd_epi_2021, compute_derived
from bloodq.analysis.interpret import interpret
from bloodq.analysis.model import Finding, Flag, Interpretation, LabResult, ParsedReport, Patient

SEVERITY_RANK = {'critical': 0, 'high': 1, 'moderate': 2, 'low': 3, 'info': 4}


def lab(name: str, key: str, value: float, unit: str, low: float | None = None, high: float | None = None,
        panel: str = '') -> LabResult:
    """A result row as the parser would give it, flagged against its printed range (bounds inclusive)."""
    flag: Flag | None = None
    if low is not None or high is not None:
        flag = 'low' if low is not None and value < low else 'high' if high is not None and value > high else 'normal'
    ref = f'{low}–{high}' if low is not None and high is not None else f'< {high}' if high is not None else (
        f'> {low}' if low is not None else '')
    return LabResult(name, key, value, unit, low, high, ref, flag, panel, 1, '', 'printed')


def run(*rows: LabResult, query: str = 'Summarise my results', age: float | None = 45,
        sex: str | None = 'male') -> Interpretation:
    return interpret(ParsedReport(list(rows), patient=Patient(age, sex, None)), query)  # type: ignore[arg-type]


def titles(interp: Interpretation) -> list[str]:
    return [f.title for f in interp.findings]


def find(interp: Interpretation, words: str) -> Finding:
    """The first finding whose title contains ``words`` (case-insensitive)."""
    for f in interp.findings:
        if words.lower() in f.title.lower():
            return f
    raise AssertionError(f'no finding with {words!r} in {titles(interp)}')


# --- derived values ----------------------------------------------------------------------------


def test_ckd_epi_2021_matches_published_value() -> None:
    """CKD-EPI 2021: creatinine 0.9 mg/dL, male, 30 years gives about 117-118; at Scr = κ only age and sex count."""
    assert ckd_epi_2021(0.9, 30, 'male') == pytest.approx(117.5, abs=1.0)
    assert ckd_epi_2021(0.7, 30, 'female') == pytest.approx(142 * 0.9938**30 * 1.012)


def test_egfr_is_computed_from_umol_creatinine() -> None:
    """Creatinine in µmol/L is divided by 88.4 before the equation (79.56 µmol/L = 0.9 mg/dL)."""
    derived = compute_derived(ParsedReport([lab('Creatinine', 'creatinine', 79.56, 'µmol/L', 60, 110)],
                                           patient=Patient(30, 'male')))
    egfr = next(d for d in derived if d.canonical == 'egfr_calc')
    assert egfr.value == pytest.approx(118, abs=1)
    assert egfr.inputs == ['creatinine']


def test_printed_egfr_stays_authoritative() -> None:
    """A printed eGFR drives the KDIGO category; the computed one is only a cross-check note."""
    interp = run(lab('Creatinine', 'creatinine', 1.4, 'mg/dL', 0.7, 1.3),
                 lab('eGFR', 'egfr', 55, 'mL/min/1.73m²', 60, None), age=60)
    kidney = find(interp, 'category G3a')
    assert 'eGFR 55' in kidney.detail and kidney.severity == 'moderate'
    calc = next(d for d in interp.derived if d.canonical == 'egfr_calc')
    assert 'Cross-check only' in calc.note and '55' in calc.note


def test_no_egfr_without_age_or_sex() -> None:
    """Without age or sex no eGFR is invented; a raised creatinine says why none was computed."""
    interp = run(lab('Creatinine', 'creatinine', 1.6, 'mg/dL', 0.7, 1.3), age=None, sex=None)
    assert not [d for d in interp.derived if d.canonical == 'egfr_calc']
    assert 'age and sex' in find(interp, 'Raised creatinine').detail


def test_lipid_and_liver_derived_values() -> None:
    """Non-HDL, TC/HDL, LDL/HDL and AST/ALT are computed only from values on the report."""
    interp = run(lab('Total cholesterol', 'cholesterol_total', 220, 'mg/dL', None, 200),
                 lab('HDL', 'hdl', 50, 'mg/dL', 40, None), lab('LDL', 'ldl', 140, 'mg/dL', None, 130),
                 lab('AST', 'ast', 30, 'U/L', None, 40), lab('ALT', 'alt', 20, 'U/L', None, 41))
    derived = {d.canonical: d.value for d in interp.derived}
    assert derived['non_hdl_calc'] == 170
    assert derived['tc_hdl_ratio'] == pytest.approx(4.4)
    assert derived['ldl_hdl_ratio'] == pytest.approx(2.8)
    assert derived['ast_alt_ratio'] == pytest.approx(1.5)
    assert 'tsat' not in derived and 'egfr_calc' not in derived


def test_printed_non_hdl_is_not_recomputed() -> None:
    """When the report prints non-HDL, no second (calculated) non-HDL appears."""
    derived = compute_derived(ParsedReport([lab('TC', 'cholesterol_total', 200, 'mg/dL'), lab('HDL', 'hdl', 50, 'mg/dL'),
                                            lab('Non-HDL', 'non_hdl', 150, 'mg/dL')]))
    assert 'non_hdl_calc' not in {d.canonical for d in derived}


# --- haematology -------------------------------------------------------------------------------


def test_microcytic_anaemia_suggests_iron_studies() -> None:
    """Low Hb with low MCV is a microcytic anaemia pattern that asks for iron studies."""
    interp = run(lab('Haemoglobin', 'hemoglobin', 9.5, 'g/dL', 13, 17), lab('MCV', 'mcv', 70, 'fL', 80, 100))
    f = find(interp, 'microcytic')
    assert f.specialty == 'haematology' and f.severity == 'moderate'
    assert 'iron studies' in f.detail.lower() and {'hemoglobin', 'mcv'} <= set(f.markers)


def test_microcytic_anaemia_with_low_ferritin_supports_iron_deficiency() -> None:
    """A low ferritin alongside the microcytic pattern is named as supporting iron deficiency."""
    interp = run(lab('Hb', 'hemoglobin', 105, 'g/L', 120, 160), lab('MCV', 'mcv', 72, 'fL', 80, 100),
                 lab('Ferritin', 'ferritin', 6, 'ng/mL', 15, 150), sex='female')
    assert 'supports iron deficiency' in find(interp, 'microcytic').detail
    assert find(interp, 'Low iron stores').specialty == 'iron'


def test_macrocytic_anaemia_suggests_b12_and_folate() -> None:
    """Low Hb with high MCV is a macrocytic pattern pointing at B12 and folate."""
    f = find(run(lab('Hb', 'hemoglobin', 10.8, 'g/dL', 13, 17), lab('MCV', 'mcv', 108, 'fL', 80, 100)), 'macrocytic')
    assert 'B12' in f.detail and 'folate' in f.detail


def test_white_cell_patterns() -> None:
    """Raised WBC led by neutrophils is neutrophilia; led by lymphocytes is lymphocytosis."""
    neut = run(lab('WBC', 'wbc', 14.2, '10^3/µL', 4, 11), lab('Neutrophils', 'neutrophils_abs', 11.0, '10^3/µL', 2, 7.5))
    assert find(neut, 'neutrophilia').severity == 'low'
    lymph = run(lab('WBC', 'wbc', 13.0, '10^9/L', 4, 11), lab('Lymphocytes %', 'lymphocytes_pct', 62, '%', 20, 45))
    assert find(lymph, 'lymphocytosis')


def test_platelet_thresholds() -> None:
    """Platelets below range are thrombocytopenia; below 50 ×10³/µL (any unit spelling) it is critical."""
    assert find(run(lab('Platelets', 'platelets', 120, 'x10³/µL', 150, 410)), 'platelet').severity == 'low'
    crit = run(lab('Platelets', 'platelets', 42000, '/cumm', 150000, 410000))
    assert crit.findings[0].severity == 'critical' and 'platelet' in crit.findings[0].title.lower()


# --- metabolic and lipids ----------------------------------------------------------------------


@pytest.mark.parametrize(('value', 'unit', 'words', 'severity'), [
    (5.9, '%', 'prediabetes', 'moderate'),
    (7.1, '%', 'diabetes range', 'high'),
    (54, 'mmol/mol', 'diabetes range', 'high'),
])
def test_hba1c_categories(value: float, unit: str, words: str, severity: str) -> None:
    """HbA1c 5.7–6.4% is the prediabetes range and ≥ 6.5% (48 mmol/mol) the diabetes range."""
    f = find(run(lab('HbA1c', 'hba1c', value, unit, 4.0, 5.6 if unit == '%' else 38)), words)
    assert f.specialty == 'metabolic' and f.severity == severity


@pytest.mark.parametrize(('value', 'unit', 'words'), [(112, 'mg/dL', 'prediabetes'), (7.6, 'mmol/L', 'diabetes range')])
def test_fasting_glucose_categories(value: float, unit: str, words: str) -> None:
    """Fasting glucose 100–125 mg/dL is prediabetes; ≥ 126 mg/dL (7.0 mmol/L) the diabetes range."""
    high = 100 if unit == 'mg/dL' else 5.5
    assert find(run(lab('Fasting glucose', 'glucose_fasting', value, unit, 70 if unit == 'mg/dL' else 3.9, high)), words)


def test_category_never_alarms_on_a_normal_flag() -> None:
    """HbA1c 5.8% inside the lab's printed range gets a mild category note, never above 'low'."""
    f = find(run(lab('HbA1c', 'hba1c', 5.8, '%', 4.0, 6.0)), 'prediabetes')
    assert f.severity == 'low' and 'within its printed range' in f.detail


def test_lipid_categories_and_units() -> None:
    """NCEP categories: LDL ≥ 190 very high, TG 200–499 high, HDL < 40 low; mmol/L converted first."""
    interp = run(lab('LDL', 'ldl', 195, 'mg/dL', None, 100), lab('Triglycerides', 'triglycerides', 2.8, 'mmol/L', None, 1.7),
                 lab('HDL', 'hdl', 0.85, 'mmol/L', 1.0, None), lab('Cholesterol', 'cholesterol_total', 6.5, 'mmol/L', None, 5.2))
    assert find(interp, 'Very high LDL').severity == 'high'
    assert '200–499' in find(interp, 'triglycerides').detail
    assert find(interp, 'Low HDL').specialty == 'lipids'
    assert find(interp, 'High total cholesterol').severity == 'moderate'  # 6.5 mmol/L ≈ 251 mg/dL
    assert next(d for d in interp.derived if d.canonical == 'non_hdl_calc').unit == 'mmol/L'


# --- liver, kidney, thyroid, vitamins ----------------------------------------------------------


def test_isolated_alp_points_to_bone_or_biliary_source() -> None:
    """Raised ALP with normal AST, ALT and bilirubin suggests a bone or bile-duct source."""
    f = find(run(lab('ALP', 'alp', 190, 'U/L', 40, 129), lab('AST', 'ast', 25, 'U/L', None, 40),
                 lab('ALT', 'alt', 22, 'U/L', None, 41), lab('Bilirubin', 'bilirubin_total', 0.7, 'mg/dL', 0.3, 1.2)),
             'Raised ALP without raised liver enzymes')
    assert 'bone' in f.detail and 'bile' in f.detail and f.specialty == 'liver'


def test_hepatocellular_pattern_and_ast_alt_ratio() -> None:
    """Raised AST/ALT is a liver-cell pattern; AST > 2 × ALT with AST raised is called out."""
    interp = run(lab('AST', 'ast', 130, 'U/L', None, 40), lab('ALT', 'alt', 50, 'U/L', None, 41))
    assert 'liver-cell' in find(interp, 'Raised liver enzymes').title
    assert 'alcohol' in find(interp, 'AST more than twice ALT').detail


@pytest.mark.parametrize(('egfr', 'grade', 'severity'), [(75, 'G2', 'info'), (50, 'G3a', 'moderate'),
                                                          (35, 'G3b', 'high'), (20, 'G4', 'high'), (10, 'G5', 'critical')])
def test_kdigo_egfr_categories(egfr: float, grade: str, severity: str) -> None:
    """eGFR maps to KDIGO G1–G5 with severity rising as filtration falls."""
    f = find(run(lab('eGFR', 'egfr', egfr, 'mL/min/1.73m2')), f'category {grade}')
    assert f.severity == severity and f.specialty == 'kidney'


def test_normal_egfr_has_no_finding() -> None:
    """eGFR ≥ 90 (G1) produces no kidney finding."""
    assert not run(lab('eGFR', 'egfr', 104, 'mL/min/1.73m2', 90, None)).findings


@pytest.mark.parametrize(('tsh', 't4', 'words'), [
    (12.0, 0.6, 'Underactive thyroid pattern'), (6.5, 1.2, 'subclinical hypothyroidism'),
    (0.02, 2.6, 'Overactive thyroid pattern'), (0.2, 1.3, 'subclinical hyperthyroidism'),
])
def test_thyroid_patterns(tsh: float, t4: float, words: str) -> None:
    """TSH is read with free T4: overt and subclinical under- and overactive patterns."""
    f = find(run(lab('TSH', 'tsh', tsh, 'µIU/mL', 0.4, 4.5), lab('Free T4', 'free_t4', t4, 'ng/dL', 0.8, 1.8)), words)
    assert f.specialty == 'thyroid' and {'tsh', 'free_t4'} <= set(f.markers)


@pytest.mark.parametrize(('value', 'unit', 'low', 'expected'), [
    (85, 'nmol/L', 75, None),  # about 34 ng/mL: sufficient
    (15, 'ng/mL', 30, 'Vitamin D deficiency'),
    (40, 'nmol/L', 75, 'Vitamin D deficiency'),  # 16 ng/mL
    (60, 'nmol/L', 75, 'Vitamin D insufficiency'),  # 24 ng/mL
    (25, 'ng/mL', 30, 'Vitamin D insufficiency'),
])
def test_vitamin_d_minds_the_unit(value: float, unit: str, low: float, expected: str | None) -> None:
    """Vitamin D thresholds (20 / 30 ng/mL = 50 / 75 nmol/L) are applied after unit conversion."""
    interp = run(lab('25-OH Vitamin D', 'vitamin_d_25oh', value, unit, low, 250 if unit == 'nmol/L' else 100))
    names = [t for t in titles(interp) if 'Vitamin D' in t]
    assert names == ([expected] if expected else [])


def test_low_b12() -> None:
    """B12 below 200 pg/mL (or 148 pmol/L) is a low-B12 finding."""
    assert find(run(lab('Vitamin B12', 'vitamin_b12', 110, 'pmol/L', 150, 700)), 'Low vitamin B12').severity == 'moderate'


# --- critical values, flags, generic findings --------------------------------------------------


def test_critical_values_come_first() -> None:
    """K > 6.0, Na < 125, glucose < 54 and Hb < 7 are critical, sorted first, and drive urgent advice."""
    interp = run(lab('Urea', 'urea', 50, 'mg/dL', 17, 43), lab('Potassium', 'potassium', 6.6, 'mmol/L', 3.5, 5.1),
                 lab('Sodium', 'sodium', 121, 'mmol/L', 135, 145), lab('Glucose', 'glucose_fasting', 2.7, 'mmol/L', 3.9, 5.5),
                 lab('Hb', 'hemoglobin', 6.4, 'g/dL', 13, 17))
    severities = [f.severity for f in interp.findings]
    assert severities[:4] == ['critical'] * 4
    assert severities == sorted(severities, key=SEVERITY_RANK.__getitem__)
    assert 'today' in interp.recommendations['follow_up'][0]
    assert interp.answer.startswith('Important:')


def test_flagged_result_without_a_rule_gets_a_plain_finding() -> None:
    """Every flagged result is said somewhere: an unknown marker gets a plain 'above the range' finding."""
    interp = run(lab('Eosinophils', 'eosinophils_pct', 11, '%', 1, 6, panel='CBC'),
                 lab('Mystery enzyme', '', 90, 'U/L', 10, 50, panel='Liver Function Test'))
    assert find(interp, 'Eosinophils above the range').specialty == 'haematology'
    assert find(interp, 'Mystery enzyme above the range').specialty == 'liver'


def test_all_normal_report_has_nothing_alarming() -> None:
    """An all-normal report has no finding above 'info', no specialist, and maintenance advice."""
    interp = run(lab('Hb', 'hemoglobin', 14.5, 'g/dL', 13, 17), lab('MCV', 'mcv', 90, 'fL', 80, 100),
                 lab('Glucose', 'glucose_fasting', 88, 'mg/dL', 70, 100), lab('HbA1c', 'hba1c', 5.2, '%', 4, 5.6),
                 lab('LDL', 'ldl', 90, 'mg/dL', None, 100), lab('HDL', 'hdl', 55, 'mg/dL', 40, None),
                 lab('TSH', 'tsh', 1.9, 'mIU/L', 0.4, 4.5), lab('Vitamin D', 'vitamin_d_25oh', 40, 'ng/mL', 30, 100),
                 lab('Creatinine', 'creatinine', 0.9, 'mg/dL', 0.7, 1.3), age=30)
    assert all(f.severity == 'info' for f in interp.findings)
    assert interp.specialists_consulted == []
    assert 'within the printed reference ranges' in interp.answer
    assert 'Nothing on this report is out of range' in interp.recommendations['follow_up'][0]


def test_zero_results_says_no_lab_results_found() -> None:
    """A document with no results gets a clear message and no findings or advice."""
    interp = interpret(ParsedReport([]), 'analyze my results')
    assert 'No lab results were found' in interp.answer and 'No lab results were found' in interp.analysis
    assert interp.findings == [] and interp.specialists_consulted == [] and interp.derived == []
    assert interp.recommendations['nutrition'] == [] and interp.recommendations['exercise'] == []


# --- query routing and text --------------------------------------------------------------------


SAMPLE = (lab('Total cholesterol', 'cholesterol_total', 250, 'mg/dL', None, 200),
          lab('LDL cholesterol', 'ldl', 170, 'mg/dL', None, 100), lab('HDL cholesterol', 'hdl', 45, 'mg/dL', 40, None),
          lab('Haemoglobin', 'hemoglobin', 14, 'g/dL', 13, 17), lab('Ferritin', 'ferritin', 80, 'ng/mL', 30, 400),
          lab('HbA1c', 'hba1c', 5.4, '%', 4, 5.6), lab('ALT', 'alt', 30, 'U/L', None, 41),
          lab('Creatinine', 'creatinine', 1.0, 'mg/dL', 0.7, 1.3), lab('Vitamin B12', 'vitamin_b12', 450, 'pg/mL', 200, 900),
          lab('TSH', 'tsh', 2.0, 'mIU/L', 0.4, 4.5))


@pytest.mark.parametrize(('query', 'first_line'), [
    ('Is my cholesterol OK? Worried about my heart', 'Cholesterol (lipid) results:'),
    ('I feel tired and weak all the time', 'Results that can explain tiredness:'),
    ('Do I have diabetes? what about my sugar', 'Blood sugar results:'),
    ('I drink alcohol, is my liver fine?', 'Liver results:'),
    ('how are my kidneys', 'Kidney results:'),
    ('Any vitamin deficiency?', 'Vitamin results:'),
    ('I keep gaining weight', 'Thyroid results:'),
    ('analyze my results', 'Overall, 2 of 10 results are outside the printed reference ranges:'),
])
def test_query_routing_leads_with_the_topic(query: str, first_line: str) -> None:
    """The answer opens with the results the query asked about (or an overall summary)."""
    answer = interpret(ParsedReport(list(SAMPLE), patient=Patient(50, 'female')), query).answer
    assert answer.splitlines()[0] == first_line


def test_topic_answer_lists_values_units_and_flags() -> None:
    """A lipid question lists each lipid with value, unit and flag, then what it means."""
    answer = interpret(ParsedReport(list(SAMPLE)), 'cholesterol?').answer
    assert 'LDL cholesterol: 170 mg/dL (range < 100) — HIGH' in answer
    assert 'HDL cholesterol: 45 mg/dL (range > 40) — within range' in answer
    assert 'What this means:' in answer


def test_fatigue_answer_is_reassuring_when_all_normal() -> None:
    """With every tiredness-related result normal, the answer says so and lists what is missing."""
    answer = interpret(ParsedReport(list(SAMPLE)), 'why am I so tired').answer
    assert 'All of these are within the printed reference ranges' in answer
    assert 'Not on this report: folate.' in answer


def test_analysis_reads_well_in_a_terminal() -> None:
    """The analysis keeps lines ≤ 100 columns and has the expected sections and disclaimer."""
    interp = interpret(ParsedReport(list(SAMPLE), patient=Patient(50, 'male', '2024-05-01')), 'cholesterol?')
    lines = interp.analysis.splitlines()
    assert max(len(line) for line in lines) <= 100
    for heading in ('YOUR QUESTION', 'OUT-OF-RANGE RESULTS', 'FINDINGS BY SPECIALIST', 'RECOMMENDATIONS',
                    'DISCLAIMER'):
        assert heading in lines
    assert 'not a diagnosis' in interp.disclaimer
    assert interp.specialists_consulted == ['lipids']
    assert set(interp.recommendations) == {'nutrition', 'exercise', 'follow_up'}
    assert any('saturated fat' in line for line in interp.recommendations['nutrition'])


@pytest.mark.parametrize(('key', 'value', 'unit', 'expected'), [
    ('glucose_fasting', 5.5, 'mmol/L', 99.09), ('cholesterol_total', 5.0, 'mmol/L', 193.35),
    ('triglycerides', 1.0, 'mmol/l', 88.57), ('creatinine', 88.4, 'umol/L', 1.0), ('creatinine', 88.4, 'mcmol/L', 1.0),
    ('hemoglobin', 135, 'g/L', 13.5), ('vitamin_d_25oh', 74.88, 'nmol/L', 30.0), ('platelets', 2.5, 'lakhs/cumm', 250),
    ('platelets', 250000, '/µL', 250), ('wbc', 7.5, 'x10^9/L', 7.5), ('tsh', 2.0, 'uIU/ml', 2.0),
    ('glucose_fasting', 95, '', 95.0), ('glucose_fasting', 5.4, '', None), ('hemoglobin', 13, 'furlongs', None),
])
def test_unit_conversion(key: str, value: float, unit: str, expected: float | None) -> None:
    """Units convert to the threshold unit, tolerant of spelling; unknown units give None."""
    got = to_standard(key, value, unit)
    assert got == (None if expected is None else pytest.approx(expected, rel=1e-3))


def test_compose_result_shape_is_json_ready() -> None:
    """compose_result builds the stored dict with every key and serialises with orjson."""
    report = ParsedReport(list(SAMPLE), patient=Patient(50, 'female', '2024-05-01'))
    result = compose_result(report, interpret(report, 'q'), query='q', file_name='C:\\up\\report.pdf',
                            processing_time_s=1.23456)
    assert set(result) == {'status', 'query', 'analysis', 'file_processed', 'processing_time', 'specialists_consulted',
                           'disclaimer', 'results', 'qualitative', 'patient', 'findings', 'derived', 'answer',
                           'recommendations', 'summary'}
    assert result['file_processed'] == 'report.pdf' and result['processing_time'] == 1.235
    assert result['summary'] == {'n_results': 10, 'n_abnormal': 2, 'abnormal': ['Total cholesterol', 'LDL cholesterol']}
    assert set(result['results'][0]) >= {'name', 'canonical', 'value', 'unit', 'ref_low', 'ref_high', 'flag'}
    assert orjson.loads(orjson.dumps(result)) == result


def test_maintenance_advice_does_not_deny_flagged_results() -> None:
    """When the only flagged result yields an 'info' note, advice names it instead of saying all is in range."""
    interp = run(lab('WBC', 'wbc', 8.0, '10^3/µL', 4, 11), lab('Neutrophils %', 'neutrophils_pct', 82, '%', 40, 75))
    assert [f.severity for f in interp.findings] == ['info']
    assert 'Neutrophils %' in interp.recommendations['follow_up'][0]
    assert 'Overall, 1 of 2 results is outside' in interp.answer


def test_catalogue_key_spellings_are_understood() -> None:
    """The catalogue's keys (ft4, rdw_cv, chol_hdl_ratio) feed the same rules and keep their own names in findings."""
    interp = run(lab('TSH', 'tsh', 9.0, 'µIU/mL', 0.4, 4.5), lab('Free T4', 'ft4', 0.5, 'ng/dL', 0.8, 1.8),
                 lab('Chol/HDL ratio', 'chol_hdl_ratio', 6.1, '', None, 5.0),
                 lab('Total cholesterol', 'cholesterol_total', 190, 'mg/dL', None, 200),
                 lab('HDL', 'hdl', 31, 'mg/dL', 40, None), query='thyroid and cholesterol')
    thyroid = find(interp, 'Underactive thyroid pattern')
    assert thyroid.markers == ['tsh', 'ft4']
    assert 'tc_hdl_ratio' not in {d.canonical for d in interp.derived}  # printed, so not recomputed
    assert '6.1' in find(interp, 'ratio').detail
    assert 'Free T4: 0.5 ng/dL' in interp.answer


def test_calculated_egfr_is_capped_when_creatinine_is_normal() -> None:
    """A low calculated eGFR from a creatinine the lab calls normal is reported, but not above 'low'."""
    interp = run(lab('Creatinine', 'creatinine', 1.0, 'mg/dL', 0.5, 1.1), age=80, sex='female')
    f = find(interp, 'eGFR')
    assert f.severity == 'low' and "within the lab's range" in f.detail


def test_record_is_asdict_without_the_deep_copy() -> None:
    """model.record() turns every kind of analysis record into the dict dataclasses.asdict gives, lists copied."""
    import dataclasses

    from bloodq.analysis.model import DerivedValue, Finding, LabResult, Patient, QualitativeResult, record

    samples = [
        LabResult('Hb', 'hemoglobin', 9.1, 'g/dL', 13.0, None, '>13', 'low', 'CBC', 2, '9.10', 'printed'),
        QualitativeResult('Urine glucose', 'urine_glucose', 'Negative'),
        Patient(41.0, 'female', '2024-03-02'),
        DerivedValue('eGFR', 'egfr', 92.0, 'mL/min/1.73m2', ['creatinine']),
        Finding('haematology', 'moderate', 'Low haemoglobin', 'detail', ['hemoglobin', 'mcv']),
    ]
    for obj in samples:
        out = record(obj)
        assert out == dataclasses.asdict(obj)
        for key, value in out.items():
            if isinstance(value, list):
                assert value is not getattr(obj, key)  # the record's list is not shared with the result
