"""Parsing page texts into result rows: every pypdf quirk, other labs' layouts, and what to ignore."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import pytest
from conftest_reports import SHARED_TRUTH, shared_pages  # noqa: F401
from hypothesis import given, settings
from hypothesis import strategies as st

from bloodq.analysis.model import LabResult
from bloodq.analysis.parser import parse_report


def rows(text: str) -> list[LabResult]:
    """Rows parsed from a one-page text."""
    return parse_report([text]).results


def one(text: str) -> LabResult:
    """The single row parsed from ``text``."""
    found = rows(text)
    assert len(found) == 1, found
    return found[0]


def brief(r: LabResult) -> tuple[str, str, float, str, float | None, float | None, str | None]:
    """The fields most tests compare."""
    return r.name, r.canonical, r.value, r.unit, r.ref_low, r.ref_high, r.flag


# --- the shared real report --------------------------------------------------------------


def test_shared_patient_and_qualitative(shared_pages: list[str]) -> None:  # noqa: F811
    """The real report's patient block and its one qualitative row (GFR category G1) are read."""
    rep = parse_report(shared_pages)
    assert (rep.patient.age, rep.patient.sex, rep.patient.collected) == (30.0, 'male', '2023-05-14')
    assert [(q.name, q.value_text, q.canonical) for q in rep.qualitative] == [('GFR Category', 'G1', 'gfr_category')]
    assert rep.pages == 10


def test_shared_ignores_interpretation_tables(shared_pages: list[str]) -> None:  # noqa: F811
    """No row comes from the notes and interpretation tables (pages 2, 5, 9, 10 have no results)."""
    rep = parse_report(shared_pages)
    assert {r.page for r in rep.results} == {1, 3, 4, 6, 7, 8}
    truth = json.loads(SHARED_TRUTH.read_text(encoding='utf-8'))
    assert len(rep.results) == truth['n_numeric_results']


def test_shared_parse_is_cheap(shared_pages: list[str]) -> None:  # noqa: F811
    """Parsing costs a small fraction of pypdf's extraction of the same report (target under 10%)."""
    from conftest_reports import SHARED_PDF

    from bloodq.analysis.extract import extract_pages

    data = SHARED_PDF.read_bytes()
    parse_report(shared_pages)  # load the catalogue and compile the regexes first
    extract = min(_cpu(lambda: extract_pages(data)) for _ in range(3))
    parse = min(_cpu(lambda: parse_report(shared_pages)) for _ in range(5))
    assert parse < 0.15 * extract, (parse, extract)  # 15%: headroom for noisy shared machines


def _cpu(fn: Callable[[], object]) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


# --- pypdf quirks (Lal PathLabs style) ----------------------------------------------------


def test_unit_glued_to_value() -> None:
    """'g/dL15.00' is unit then value; 'mill/mm34.50' keeps the unit's 3 (value 4.50)."""
    rep = rows('Hemoglobin\n(Photometry)\n 13.00 - 17.00 g/dL15.00\nRBC Count\n(Electrical Impedence)\n'
               ' 4.50 - 5.50 mill/mm34.50\nPlatelet Count\n 150.00 - 410.00 thou/mm3200\n')
    assert [brief(r) for r in rep] == [
        ('Hemoglobin', 'hemoglobin', 15.0, 'g/dL', 13.0, 17.0, 'normal'),
        ('RBC Count', 'rbc', 4.5, 'mill/mm3', 4.5, 5.5, 'normal'),
        ('Platelet Count', 'platelets', 200.0, 'thou/mm3', 150.0, 410.0, 'normal'),
    ]


def test_value_glued_before_name_with_range_below() -> None:
    """'0.90Creatinine' takes its range and unit from the line after the method line."""
    rep = rows('0.90Creatinine\n(Modified Jaffe,Kinetic)\n 0.70 - 1.30 mg/dL\n118GFR Estimated\n(CKD EPI)\n'
               ' >59 mL/min/1.73m2\n10BUN/Creatinine Ratio\n(Calculated)\n  \n1.33A : G Ratio\n(Calculated)\n'
               ' 0.90 - 2.00 \n')
    assert [brief(r) for r in rep] == [
        ('Creatinine', 'creatinine', 0.9, 'mg/dL', 0.7, 1.3, 'normal'),
        ('GFR Estimated', 'egfr', 118.0, 'mL/min/1.73m2', 59.0, None, 'normal'),
        ('BUN/Creatinine Ratio', 'bun_creatinine_ratio', 10.0, '', None, None, None),
        ('A : G Ratio', 'ag_ratio', 1.33, '', 0.9, 2.0, 'normal'),
    ]
    assert rep[2].ref_source == 'none' and rep[0].ref_source == 'printed'


def test_range_first_differential_rows() -> None:
    """'40.00 - 80.00 Segmented Neutrophils %60.00' and the absolute block that follows."""
    rep = rows('Differential Leucocyte Count (DLC)\n(VCS Technology)\n 40.00 - 80.00 Segmented Neutrophils %60.00\n'
               ' <2.00 Basophils %0.00\nAbsolute Leucocyte Count\n(Calculated)\n'
               ' 0.02 - 0.10 Basophils thou/mm30.00\n')
    assert [(r.name, r.canonical, r.value, r.flag) for r in rep] == [
        ('Segmented Neutrophils', 'neutrophils_pct', 60.0, 'normal'),
        ('Basophils', 'basophils_pct', 0.0, 'normal'),
        ('Basophils', 'basophils_abs', 0.0, 'low'),
    ]
    assert rep[2].panel.endswith('Absolute Leucocyte Count')


def test_value_then_unit_then_range_with_name_above() -> None:
    """'280.00 pg/mL 211.00 - 911.00' under a capitalised heading that is also the test name."""
    r = one('VITAMIN B12; CYANOCOBALAMIN, SERUM\n(CLIA)\n280.00 pg/mL 211.00 - 911.00\nNotes\n'
            '1. Interpretation of the result should be considered in relation to clinical circumstances.\n')
    assert brief(r) == ('VITAMIN B12; CYANOCOBALAMIN, SERUM', 'vitamin_b12', 280.0, 'pg/mL', 211.0, 911.0, 'normal')
    assert r.panel == 'VITAMIN B12; CYANOCOBALAMIN, SERUM'


# --- flags ----------------------------------------------------------------------------------


@pytest.mark.parametrize(('line', 'flag'), [
    ('Hemoglobin 13.0 g/dL 13.0 - 17.0', 'normal'), ('Hemoglobin 17.0 g/dL 13.0 - 17.0', 'normal'),
    ('Hemoglobin 12.9 g/dL 13.0 - 17.0', 'low'), ('Hemoglobin 17.1 g/dL 13.0 - 17.0', 'high'),
    ('Cholesterol, Total 200 mg/dL <200', 'normal'), ('Cholesterol, Total 201 mg/dL <200', 'high'),
    ('HDL Cholesterol 40 mg/dL >40', 'normal'), ('HDL Cholesterol 39 mg/dL >40', 'low'),
    ('SGPT 41 U/L Up to 40', 'high'), ('GGT 55 U/L <= 55', 'normal'), ('eGFR 61 mL/min/1.73m2 > 60', 'normal'),
    ('Hemoglobin 11.0 g/dL 13.0 to 17.0', 'low'), ('Hemoglobin 18.0 g/dL 13.0 – 17.0', 'high'),
    ('HDL CHOLESTEROL 39 mg/dL > OR = 40', 'low'),
])
def test_flags_from_printed_range(line: str, flag: str) -> None:
    """Flags come from the printed range, bounds inclusive, one-sided ranges as one bound."""
    assert one(line).flag == flag


def test_no_range_means_no_flag() -> None:
    """A row printed without a range has flag None even when the lab prints an H."""
    r = one('Estimated average glucose (eAG) 105 mg/dL')
    assert (r.flag, r.ref_low, r.ref_high, r.ref_text) == (None, None, None, '')


# --- other labs --------------------------------------------------------------------------------


def test_us_table_with_flag_column() -> None:
    """Test | Result | Flag | Units | Reference: H/L letters are not names, units like 10^3/uL."""
    rep = rows('Test Result Flag Units Reference Interval\nWBC 11.8 H 10^3/uL 3.4-10.8\n'
               'RBC 4.01 L 10^6/uL 4.14-5.80\nNeutrophils (Absolute) 5.2 x10E3/uL 1.4-7.0\n'
               'Lymphs (Absolute) 1.1 10*3/uL 0.7-3.1\nBUN/Creatinine Ratio 14 9-20\n')
    assert [(r.canonical, r.value, r.unit, r.flag) for r in rep] == [
        ('wbc', 11.8, '10^3/uL', 'high'), ('rbc', 4.01, '10^6/uL', 'low'),
        ('neutrophils_abs', 5.2, 'x10E3/uL', 'normal'), ('lymphocytes_abs', 1.1, '10*3/uL', 'normal'),
        ('bun_creatinine_ratio', 14.0, '', 'normal'),
    ]


def test_uk_si_brackets_and_method_column() -> None:
    """CAPITAL names with a method column, SI units and bracketed ranges (ref_text without brackets)."""
    rep = rows('HAEMOGLOBIN SLS 128 g/L (130 - 170)\nSODIUM ISE 139 mmol/L (133 - 146)\n'
               'CREATININE Enzymatic 88 µmol/L (59 - 104)\nTOTAL CHOLESTEROL 5.6 mmol/L (< 5.0)\n'
               'C REACTIVE PROTEIN 4 mg/L (< 5)\n')
    assert [(r.canonical, r.value, r.unit, r.ref_text, r.flag) for r in rep] == [
        ('hemoglobin', 128.0, 'g/L', '130 - 170', 'low'), ('sodium', 139.0, 'mmol/L', '133 - 146', 'normal'),
        ('creatinine', 88.0, 'µmol/L', '59 - 104', 'normal'), ('cholesterol_total', 5.6, 'mmol/L', '< 5.0', 'high'),
        ('crp', 4.0, 'mg/L', '< 5', 'normal'),
    ]


def test_current_and_previous_results() -> None:
    """With a previous-result column, the current value is the one under 'Result'."""
    rep = rows('Test Current Result Previous Result Units Reference Range\nHemoglobin 14.1 12.2 g/dL 13.0 - 17.0\n')
    assert [(r.value, r.flag) for r in rep] == [(14.1, 'normal')]
    rep = rows('Test Previous Result Current Result Units Reference Range\nHemoglobin 12.2 14.1 g/dL 13.0 - 17.0\n')
    assert [(r.value, r.flag) for r in rep] == [(14.1, 'normal')]


def test_two_results_on_one_line() -> None:
    """Two-column layouts give two rows per line."""
    rep = rows('Neutrophils 62 % 40-80 Lymphocytes 31 % 20-40\nSodium 139 mEq/L 136-145 Potassium 5.6 mEq/L 3.5-5.1\n')
    assert [(r.canonical, r.value, r.flag) for r in rep] == [
        ('neutrophils_pct', 62.0, 'normal'), ('lymphocytes_pct', 31.0, 'normal'), ('sodium', 139.0, 'normal'),
        ('potassium', 5.6, 'high')]


def test_decimal_commas() -> None:
    """European decimal commas in values and ranges."""
    rep = rows('Hemoglobin 12,3 g/dl 13,5 - 17,5\nCreatinine 0,96 mg/dl 0,7 - 1,2\n')
    assert [(r.value, r.value_text, r.ref_low, r.ref_high, r.flag) for r in rep] == [
        (12.3, '12,3', 13.5, 17.5, 'low'), (0.96, '0,96', 0.7, 1.2, 'normal')]


def test_grouped_thousands_and_lakhs() -> None:
    """'2,50,000 /cumm' (Indian grouping) and '7,450' are single numbers."""
    rep = rows('Platelet Count 2,50,000 /cumm 1,50,000 - 4,10,000\nTotal WBC Count 7,450 cells/cumm 4,000 - 11,000\n')
    assert [(r.canonical, r.value, r.ref_low) for r in rep] == [('platelets', 250000.0, 150000.0),
                                                                ('wbc', 7450.0, 4000.0)]


def test_censored_value() -> None:
    """'CRP <0.5 mg/L 0 - 5': the value is 0.5 (printed '<0.5') and the range is the second one."""
    r = one('CRP <0.5 mg/L 0 - 5')
    assert (r.value, r.value_text, r.ref_low, r.ref_high, r.flag) == (0.5, '<0.5', 0.0, 5.0, 'normal')


def test_sex_specific_ranges() -> None:
    """With 'Male: … Female: …' ranges the patient's sex picks the range."""
    rep = parse_report(['Sex : Female\nHemoglobin 12.5 g/dL Male: 13.0-17.0 Female: 12.0-15.5\n'])
    assert (rep.results[0].ref_low, rep.results[0].flag) == (12.0, 'normal')


def test_unknown_analyte_with_range_is_kept() -> None:
    """A test the catalogue does not know is still a result when it has a value and a range."""
    r = one('Serum Zinc 82 µg/dL 60 - 120')
    assert (r.name, r.canonical, r.value, r.flag) == ('Serum Zinc', '', 82.0, 'normal')


def test_qualitative_rows() -> None:
    """Urine and serology text results are qualitative; numeric urine rows stay numeric."""
    text = ('URINE ROUTINE\nColour Pale Yellow Pale Yellow\nProtein Nil Nil\nHBsAg Non Reactive\n'
            'Specific Gravity 1.015 1.005 - 1.030\npH 6.0 4.6 - 8.0\n')
    rep = parse_report([text])
    assert [(q.name, q.value_text, q.ref_text) for q in rep.qualitative] == [
        ('Colour', 'Pale Yellow', 'Pale Yellow'), ('Protein', 'Nil', 'Nil'), ('HBsAg', 'Non Reactive', '')]
    assert [(r.canonical, r.value) for r in rep.results] == [('urine_specific_gravity', 1.015), ('urine_ph', 6.0)]


def test_section_headings() -> None:
    """Rows carry the capitalised section heading they sit under."""
    rep = rows('LIPID PROFILE, SERUM\nTriglycerides 120 mg/dL <150\nTHYROID PROFILE\nTSH 2.1 µIU/mL 0.55 - 4.78\n')
    assert [r.panel for r in rep] == ['LIPID PROFILE, SERUM', 'THYROID PROFILE']


# --- things that are not results --------------------------------------------------------------


NOISE = """Patient Name : JOHN DOE   Age : 45 Years   Sex : Male
Lab No : 439854467   Collected : 14/05/2023 11:03 AM   Reported : 16/05/2023 01:36 PM
National Reference laboratory, Block E, Sector 18, Rohini, New Delhi -110085
Tel: +91-11-49885050, Fax: +91-11-2788-2134   www.example.com
Page 1 of 3
*439854467*
| HbA1c in %      | 4.0-5.6           | 5.7-6.4       | >= 6.5      | <7.0                 |
Interpretation
Desirable < 200 mg/dL
Borderline High 200 - 239 mg/dL
Diabetes 6.5 % or higher
1. TSH levels are subject to circadian variation, reaching peak levels between 2 - 4 a.m.
minimum between 6-10 pm . The variation is of the order of 50% . hence time of the day has
4. Values <0.03 uIU/mL need to be clinically correlated due to presence of a rare TSH variant
The BUN/creatinine ratio is about 10:1
ISO 9001:2015 (FS60411) & ISO 27001:2013 (616691) Certified laboratory.
PatientReportSCSuperPanel.SP_GENERAL_TEMPLATE01_SC (Version: 7)
"""


def test_noise_gives_no_rows() -> None:
    """Headers, addresses, phones, page footers, notes and interpretation tables are not results."""
    rep = parse_report([NOISE])
    assert rep.results == []
    assert rep.patient.age == 45 and rep.patient.sex == 'male' and rep.patient.collected == '2023-05-14'


def test_results_after_notes_resume() -> None:
    """A capitalised heading after a note block brings parsing back."""
    rep = rows('Note\n1. Values above 59 are normal in adults and need no action.\nLIPID SCREEN, SERUM\n'
               '105.00Cholesterol, Total\n(CHO-POD)\n <200.00 mg/dL\n')
    assert [(r.canonical, r.value, r.ref_high) for r in rep] == [('cholesterol_total', 105.0, 200.0)]


def test_lab_number_is_not_a_value() -> None:
    """A known name next to an implausible number (a lab or barcode number) is not a result."""
    assert rows('Hemoglobin\n439854467\n') == []


# --- properties ---------------------------------------------------------------------------


_NUM_RE = re.compile(r'\d[\d,]*(?:[.,]\d+)?|\.\d+')
_ALPHABET = st.sampled_from(list('abcdeHLgm/dLµ%<>=-–.,:;()[]| \n0123456789') + [
    'Hemoglobin', 'Glucose', ' mg/dL', ' 13.0 - 17.0', 'thou/mm3', '(Calculated)', 'Page 1 of 2', 'Note', 'TSH',
    'Neutrophils', ' x10^9/L', 'Up to', 'Negative', '\n', '0.90', 'SERUM', '2,50,000', 'H', 'L'])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_ALPHABET, max_size=40).map(''.join), min_size=1, max_size=3))
def test_random_text_never_crashes_and_values_come_from_the_text(pages: list[str]) -> None:
    """Any text parses without error, and every reported value is printed in the input."""
    rep = parse_report(pages)
    joined = '\n'.join(pages)
    for r in rep.results:
        assert r.value_text in joined, r
        m = _NUM_RE.search(r.value_text)
        assert m is not None
        text = m.group(0)
        candidates = {float(text.replace(',', '')), float(text.replace(',', '.')) if text.count(',') == 1 else None}
        assert r.value in candidates, r
        assert 1 <= r.page <= len(pages)


# --- more layouts seen in the wild ----------------------------------------------------------------


def test_serial_numbers_and_lab_codes() -> None:
    """Leading serial numbers ('1.', '2') and LabCorp's '01' site code are not values."""
    rep = rows('1. Hemoglobin 14.5 g/dL 13.0 - 17.0\n2 Creatinine 0.95 mg/dL 0.76 - 1.27\n'
               'Glucose 01 92 mg/dL 65-99\nCreatinine, Serum 01 0.95 mg/dL 0.76-1.27\n')
    assert [(r.name, r.value) for r in rep] == [('Hemoglobin', 14.5), ('Creatinine', 0.95), ('Glucose', 92.0),
                                                ('Creatinine, Serum', 0.95)]


def test_flag_before_value() -> None:
    """'WBC H 11.8 ...': a flag printed before the value is not part of the name."""
    r = one('WBC H 11.8 10^3/uL 3.4-10.8')
    assert (r.name, r.canonical, r.value, r.flag) == ('WBC', 'wbc', 11.8, 'high')


def test_one_column_per_line() -> None:
    """Name, value, unit and range each on their own line."""
    r = one('Hemoglobin\n14.5\ng/dL\n13.0 - 17.0\n')
    assert brief(r) == ('Hemoglobin', 'hemoglobin', 14.5, 'g/dL', 13.0, 17.0, 'normal')


def test_thyrocare_style_technology_column() -> None:
    """Capital names with a dotted technology column (C.L.I.A) and no printed range."""
    rep = rows('TEST NAME TECHNOLOGY VALUE UNITS\nTOTAL TRIIODOTHYRONINE (T3) C.L.I.A 112 ng/dL\n'
               'THYROID STIMULATING HORMONE (TSH) C.L.I.A 2.45 µIU/mL\n')
    assert [(r.canonical, r.value, r.unit, r.flag) for r in rep] == [('t3_total', 112.0, 'ng/dL', None),
                                                                     ('tsh', 2.45, 'µIU/mL', None)]


def test_value_glued_to_name() -> None:
    """'Hemoglobin15.0' and 'HbA1c5.3': a decimal number glued to the end of a name is the value."""
    rep = rows('Hemoglobin15.0 g/dL 13.0 - 17.0\nHbA1c5.3 % 4.0-5.6\n')
    assert [(r.name, r.value) for r in rep] == [('Hemoglobin', 15.0), ('HbA1c', 5.3)]


def test_semi_quantitative_and_arrow_flags() -> None:
    """'2+' and '+++' are qualitative results; an arrow after the value is a flag, not a name."""
    rep = parse_report(['Protein 2+ Nil\nKetones +++\nGlucose 180 ↑ mg/dL 70-100\n'])
    assert [(q.name, q.value_text, q.ref_text) for q in rep.qualitative] == [('Protein', '2+', 'Nil'),
                                                                             ('Ketones', '+++', '')]
    assert [(r.name, r.value, r.flag) for r in rep.results] == [('Glucose', 180.0, 'high')]


def test_unknown_value_first_row_waits_for_its_range() -> None:
    """An unknown '0.50Foo Bar' counts once its range line arrives, and not at all without one."""
    rep = rows('0.50Serum Zinc Index\n(Method)\n 0.1 - 1.0 mg/dL\n0.7Other Thing\n(Calc)\nNext Heading\n')
    assert [(r.name, r.value, r.unit, r.ref_text) for r in rep] == [('Serum Zinc Index', 0.5, 'mg/dL', '0.1 - 1.0')]


def test_unknown_with_unit_only() -> None:
    """An unknown test with a unit and no range counts ('Not Estab.'), a sentence fragment does not."""
    assert [(r.name, r.value) for r in rows('Immature Cells 0.4 % Not Estab.\n')] == [('Immature Cells', 0.4)]
    assert rows('Diabetes 6.5 % or higher\n') == []


def test_qualitative_data_line_under_a_name() -> None:
    """Name, method, then 'Non Reactive' on its own line is a qualitative result."""
    rep = parse_report(['HBsAg\n(ELISA)\nNon Reactive\nColour\nPale Yellow Pale Yellow\n'])
    assert [(q.name, q.value_text, q.ref_text) for q in rep.qualitative] == [
        ('HBsAg', 'Non Reactive', ''), ('Colour', 'Pale Yellow', 'Pale Yellow')]


def test_title_case_panels_and_continued_headings() -> None:
    """'Comp. Metabolic Panel (14)' is a heading; '(Cont.)' is dropped from continued panels."""
    rep = rows('CBC With Differential/Platelet\nWBC 6.2 x10E3/uL 3.4-10.8\nComp. Metabolic Panel (14)\n'
               'Glucose 92 mg/dL 65-99\nLipid Panel (Cont.)\nTriglycerides 120 mg/dL 0-149\n')
    assert [r.panel for r in rep] == ['CBC With Differential/Platelet', 'Comp. Metabolic Panel (14)', 'Lipid Panel']


def test_sentence_after_a_value_is_not_a_row() -> None:
    """A known name in a sentence ('HbA1c 6.5 % or higher indicates diabetes') is not a result."""
    assert rows('Hemoglobin A1c 6.5 % or higher indicates diabetes\n') == []
    assert [r.value for r in rows('HEMOGLOBIN A1c 7.5 H % of total Hgb <5.7\n')] == [7.5]


def test_repeated_data_lines_survive_boilerplate_removal() -> None:
    """Lines repeated on every page are letterhead, unless they carry a value ('Nil', '0.00')."""
    page = 'ACME LABS, 1 Main Road\nPatient: X\n{name}\n(Method)\n0.00 % 0.0 - 1.0\nKetones\nNil\n'
    rep = parse_report([page.format(name='Basophils'), page.format(name='Eosinophils'), page.format(name='Monocytes')])
    assert [r.name for r in rep.results] == ['Basophils', 'Eosinophils', 'Monocytes']
    assert [q.value_text for q in rep.qualitative] == ['Nil', 'Nil', 'Nil']


def test_sex_range_on_the_next_line() -> None:
    """For a female patient, 'Female: 12.0 - 15.0' on the line after 'Male: 13.0 - 17.0' is the range."""
    rep = parse_report(['Gender : Female\nHaemoglobin 12.5 g/dL Male: 13.0 - 17.0\nFemale: 12.0 - 15.0\n'])
    assert [(r.ref_low, r.ref_high, r.flag) for r in rep.results] == [(12.0, 15.0, 'normal')]
    rep = parse_report(['Gender : Male\nHaemoglobin 12.5 g/dL Male: 13.0 - 17.0\nFemale: 12.0 - 15.0\n'])
    assert [(r.ref_low, r.flag) for r in rep.results] == [(13.0, 'low')]


def test_dot_thousands_with_decimal_commas() -> None:
    """In a decimal-comma report '250.000' is 250000."""
    rep = rows('Hemoglobin 14,2 g/dl 13,5 - 17,5\nPlatelets 250.000 /µl 150.000 - 400.000\n')
    assert [(r.value, r.ref_low, r.ref_high) for r in rep] == [(14.2, 13.5, 17.5), (250000.0, 150000.0, 400000.0)]


# --- generality: layouts from labs the parser was not written against -------------------------------


def test_reference_block_gives_rows_their_ranges() -> None:
    """A table without ranges takes them from a later 'Reference Ranges' block, matched via the catalogue."""
    page1 = ('NAME : X (34Y/F)\nTEST NAME TECHNOLOGY VALUE UNITS\nHDL CHOLESTEROL - DIRECT PHOTOMETRY 38 mg/dL\n'
             'TRIGLYCERIDES PHOTOMETRY 162 mg/dL\nSERUM ZINC PHOTOMETRY 80 µg/dL\nHAEMOGLOBIN PHOTOMETRY 12.5 g/dL\n')
    page2 = ('Reference Ranges :\nHDL CHOLESTEROL : 40 - 60 mg/dL\nTRIGLYCERIDES : < 150 mg/dL\n'
             'SERUM ZINC : 52 - 286 µg/dL\nHAEMOGLOBIN : Male : 13.0 - 17.0 Female : 12.0 - 15.0 g/dL\n')
    rep = parse_report([page1, page2])
    assert [(r.name, r.value, r.ref_low, r.ref_high, r.flag, r.ref_source) for r in rep.results] == [
        ('HDL CHOLESTEROL - DIRECT', 38.0, 40.0, 60.0, 'low', 'printed'),
        ('TRIGLYCERIDES', 162.0, None, 150.0, 'high', 'printed'),
        ('SERUM ZINC', 80.0, 52.0, 286.0, 'normal', 'printed'),
        ('HAEMOGLOBIN', 12.5, 12.0, 15.0, 'normal', 'printed'),
    ]


def test_reference_block_needs_the_same_unit_and_makes_no_rows() -> None:
    """A block range in another unit is not borrowed, and 'NAME : < 100 mg/dL' in the block is no result."""
    rep = rows('Neutrophils 3.1 10^3/uL\nLDL Cholesterol 90 mg/dL\nReference Ranges\nNeutrophils : 40 - 80 %\n'
               'LDL Cholesterol : < 100 mg/dL\nAdults only.\n')
    assert [(r.name, r.ref_low, r.ref_high, r.flag) for r in rep] == [
        ('Neutrophils', None, None, None), ('LDL Cholesterol', None, 100.0, 'normal')]


def test_reference_block_range_on_the_line_under_the_name() -> None:
    """'TSH' then 'Adults : 0.54 - 5.30' inside the block is TSH's range."""
    rep = rows('TSH 2.1 µIU/mL\nReference Range :\nTSH\nAdults : 0.54 - 5.30 µIU/mL\n')
    assert [(r.name, r.ref_low, r.ref_high) for r in rep] == [('TSH', 0.54, 5.3)]


def test_column_at_a_time_table_is_rebuilt() -> None:
    """pypdf printing all names, then all values, units and ranges (each under its title) gives whole rows."""
    text = ('HAEMATOLOGY\nTest Name\nHaemoglobin\nPlatelet Count\nESR\nResult\n11.2 L\n250\n22 H\nUnit\ng/dL\n'
            '10^3/µL\nmm/hr\nBiological Ref. Interval\n13.0 - 17.0\n150 - 410\n0 - 15\nNote: correlate clinically.\n')
    assert [(r.name, r.value, r.unit, r.ref_low, r.ref_high, r.flag, r.panel) for r in rows(text)] == [
        ('Haemoglobin', 11.2, 'g/dL', 13.0, 17.0, 'low', 'HAEMATOLOGY'),
        ('Platelet Count', 250.0, '10^3/µL', 150.0, 410.0, 'normal', 'HAEMATOLOGY'),
        ('ESR', 22.0, 'mm/hr', 0.0, 15.0, 'high', 'HAEMATOLOGY'),
    ]


def test_column_dump_without_titles_and_with_a_heading_in_the_name_column() -> None:
    """Without titles, with a heading in the name column and a part-filled flag column, the columns line up."""
    text = 'BIOCHEMISTRY\nSodium\nPotassium\nTotal Cholesterol\n140\n5.9\n180\nFlag\nH\nmmol/L\nmmol/L\nmg/dL\n' \
           '136 - 145\n3.5 - 5.1\n< 200\n'
    assert [(r.name, r.value, r.unit, r.ref_high, r.flag, r.panel) for r in rows(text)] == [
        ('Sodium', 140.0, 'mmol/L', 145.0, 'normal', 'BIOCHEMISTRY'),
        ('Potassium', 5.9, 'mmol/L', 5.1, 'high', 'BIOCHEMISTRY'),
        ('Total Cholesterol', 180.0, 'mg/dL', 200.0, 'normal', 'BIOCHEMISTRY')]


def test_column_dump_with_a_unitless_ratio() -> None:
    """A ratio prints no unit cell: the unit column is one short and the ratio gets no unit."""
    text = 'Total Cholesterol\nHDL Cholesterol\nChol/HDL Ratio\n180\n45\n4.0\nmg/dL\nmg/dL\n< 200\n> 40\n< 5.0\n'
    assert [(r.name, r.unit, r.ref_low, r.ref_high) for r in rows(text)] == [
        ('Total Cholesterol', 'mg/dL', None, 200.0), ('HDL Cholesterol', 'mg/dL', 40.0, None),
        ('Chol/HDL Ratio', '', None, 5.0)]


def test_column_rebuild_leaves_row_layouts_alone() -> None:
    """Rebuilding only fires on K names followed by K values: ordinary text comes back unchanged."""
    from bloodq.analysis.columns import rebuild_columns

    lines = ['Hemoglobin', '(Photometry)', '13.00 - 17.00 g/dL15.00', 'Lipid Panel', 'Notes', 'TSH 2.1 mIU/L',
             'Colour', 'Pale Yellow', 'Basophils', '0.00', 'Monocytes', '0.50']
    assert rebuild_columns(lines) == lines


def test_censored_result_without_a_range() -> None:
    """'eGFR >90 mL/min/1.73m2' is the result 90 (printed '>90'), with no range and no flag."""
    r = one('eGFR >90 mL/min/1.73m2\nDesirable < 200 mg/dL\n')
    assert (r.name, r.value, r.value_text, r.ref_low, r.ref_high, r.flag, r.ref_source) == (
        'eGFR', 90.0, '>90', None, None, None, 'none')
    emis = one('eGFR using creatinine (CKD-EPI) per 1.73 square metres >90 mL/min\n')
    assert (emis.canonical, emis.value_text) == ('egfr', '>90')


def test_guidance_lines_are_not_censored_results() -> None:
    """'HbA1c >= 6.5 % Diabetes' and a second 'LDL Cholesterol < 100 mg/dL' line are guidance, not results."""
    rep = rows('LDL Cholesterol 110 mg/dL < 100\nOptimal\nLDL Cholesterol < 100 mg/dL\nHbA1c >= 6.5 % Diabetes\n')
    assert [(r.name, r.value) for r in rep] == [('LDL Cholesterol', 110.0)]


@pytest.mark.parametrize(('line', 'value', 'flag'), [
    ('PSA, Total <0.1 ng/mL < OR = 4.0', 0.1, 'normal'), ('CRP <5 mg/L 0 - 5', 5.0, 'normal'),
    ('eGFR >90 > 60 mL/min/1.73m2', 90.0, 'normal'), ('Troponin I <0.01 Up to 0.04 ng/mL', 0.01, 'normal'),
    ('Ferritin >1650 ng/mL 30 - 400', 1650.0, 'high'),
])
def test_censored_results_flag_against_the_range(line: str, value: float, flag: str) -> None:
    """A censored result keeps the bound as its value and is flagged against the printed range."""
    r = one(line)
    assert (r.value, r.flag, r.ref_source) == (value, flag, 'printed')
    assert r.value_text[0] in '<>' and f' {r.value_text} ' in line


def test_known_analyte_with_unit_but_no_range_is_kept() -> None:
    """Catalogue analytes printed with a value and unit but no range are rows (flag None, ref_source 'none')."""
    rep = rows('Neutrophils 01 58 % Not Estab.\nEos 3 %\nFoo Bar Baz 7\n')
    assert [(r.canonical, r.value, r.flag, r.ref_source) for r in rep] == [
        ('neutrophils_pct', 58.0, None, 'none'), ('eosinophils_pct', 3.0, None, 'none')]


def test_flags_glued_to_values_and_sex_specific_ranges() -> None:
    """'15.8H', '*3.2', 'L 96' carry flags; '(M) 13-17 (F) 12-15' takes the patient's range."""
    text = ('Sex : Female\nHaemoglobin 11.0L (M) 13-17 (F) 12-15 g/dL\nTotal Leucocyte Count *3.2 4 - 11 10^3/µL\n'
            'Platelet Count L 96 150 - 410 10^3/µL\nSGPT 45H Up to 40 U/L\nPotassium 5.0 3.5 to 5.1 mmol/L\n')
    rep = parse_report([text]).results
    assert [(r.name, r.value, r.ref_low, r.ref_high, r.flag) for r in rep] == [
        ('Haemoglobin', 11.0, 12.0, 15.0, 'low'), ('Total Leucocyte Count', 3.2, 4.0, 11.0, 'low'),
        ('Platelet Count', 96.0, 150.0, 410.0, 'low'), ('SGPT', 45.0, None, 40.0, 'high'),
        ('Potassium', 5.0, 3.5, 5.1, 'normal')]


def test_method_and_status_columns() -> None:
    """With a METHOD column the method is not part of the name; NORMAL/ABNORMAL status words are not values."""
    rep = rows('TEST NAME METHOD RESULT UNIT STATUS REFERENCE RANGE\nSERUM IRON FERROZINE 43 mcg/dL ABNORMAL 60 - 170\n'
               'GAMMA GT SZASZ 20 U/L NORMAL 8 - 61\nTESTOSTERONE TOTAL CLIA 450 ng/dL NORMAL 264 - 916\n')
    assert [(r.name, r.canonical, r.value, r.unit, r.flag) for r in rep] == [
        ('SERUM IRON', 'iron', 43.0, 'mcg/dL', 'low'), ('GAMMA GT', 'ggt', 20.0, 'U/L', 'normal'),
        ('TESTOSTERONE TOTAL', '', 450.0, 'ng/dL', 'normal')]


def test_wrapped_names_and_range_label_lines() -> None:
    """A name wrapped onto the row line is joined; 'Normal range: a - b' under a result is its range."""
    rep = rows('Gamma Glutamyl\nTransferase (GGT) 45 U/L 0 - 55\nAlanine Aminotransferase\n(ALT/SGPT) 32 U/L 0 - 45\n'
               'Glucose: 98 mg/dL\nNormal range: 70 - 100\n')
    assert [(r.name, r.canonical, r.ref_high) for r in rep] == [
        ('Gamma Glutamyl Transferase (GGT)', 'ggt', 55.0), ('Alanine Aminotransferase (ALT/SGPT)', 'alt', 45.0),
        ('Glucose', 'glucose', 100.0)]


def test_site_codes_and_flags_on_lines_of_their_own() -> None:
    """A superscript site code ('01') or a flag ('H') that pypdf puts on its own line breaks no row."""
    rep = rows('WBC\n01\n6.2 x10E3/uL 3.4-10.8 01\nGlucose 01\n126 mg/dL 65-99\nH\nSodium 140 mmol/L 134-144\n')
    assert [(r.name, r.value, r.flag, r.panel) for r in rep] == [
        ('WBC', 6.2, 'normal', ''), ('Glucose', 126.0, 'high', ''), ('Sodium', 140.0, 'normal', '')]


def test_zero_padded_counts() -> None:
    """'Eosinophils 02 % 01 - 06' is the value 2 (a zero-padded count is no lab-site code here)."""
    rep = rows('Eosinophils 02 % 01 - 06\nBasophils 00 % 00 - 01\nGlucose 01 92 mg/dL 65-99\n')
    assert [(r.name, r.value, r.value_text, r.ref_low) for r in rep] == [
        ('Eosinophils', 2.0, '02', 1.0), ('Basophils', 0.0, '00', 0.0), ('Glucose', 92.0, '92', 65.0)]


@pytest.mark.parametrize(('header', 'age', 'sex', 'collected'), [
    ('Patient: X DOB: 04/22/1975 Sex: M\nCollected: 03/04/2024 08:00', 48.0, 'male', '2024-03-04'),
    ('Sex: F DOB: 05/11/1970\nCollected: 14-Nov-2024 09:40', 54.0, 'female', '2024-11-14'),
    ('Sex/Age: F / 38\nDate of collection: 4 March 2024', 38.0, 'female', '2024-03-04'),
    ('Age/Sex: 61 Years / Male\nCollected: 03/04/2024', 61.0, 'male', '2024-04-03'),
])
def test_patient_header_variants(header: str, age: float, sex: str, collected: str) -> None:
    """Age from a date of birth, 'Sex/Age: F / 38', and day-first dates unless another date is month-first."""
    p = parse_report([header]).patient
    assert (p.age, p.sex, p.collected) == (age, sex, collected)


def test_cumulative_table_takes_the_latest_column() -> None:
    """With one result column per date the latest date's value is the result, whichever side it is on."""
    oldest_first = rows('Test 15/10/23 02/01/24 14/03/24 Units Reference\nHaemoglobin 128 132 135 g/L 115-165\n'
                        'Ferritin 40 45 ug/L 30-300\n')
    latest_first = rows('Test 14/03/24 02/01/24 15/10/23 Units Reference\nHaemoglobin 135 132 128 g/L 115-165\n'
                        'Ferritin 45 40 ug/L 30-300\n')
    for rep in (oldest_first, latest_first):
        assert [(r.name, r.value, r.panel) for r in rep] == [('Haemoglobin', 135.0, ''), ('Ferritin', 45.0, '')]


def test_method_column_keeps_bracketed_name_parts() -> None:
    """'HBA1C (IFCC)' under a METHOD header keeps its bracket; only bare method words are dropped."""
    rep = rows('TEST METHOD RESULT UNITS REFERENCE RANGE\nHBA1C (IFCC) 41 mmol/mol (20 - 41)\nSODIUM ISE 139 mmol/L (133 - 146)\n')
    assert [(r.name, r.canonical) for r in rep] == [('HBA1C (IFCC)', 'hba1c'), ('SODIUM', 'sodium')]


def test_egfr_unit_with_asterisk_power_keeps_its_range() -> None:
    """'mL/min/1.73m*2' (NHS spelling of m²) is one unit, so the bracketed range after it is read."""
    rep = rows('eGFR 63 mL/min/1.73m*2 (>90)\n')
    assert [brief(r) for r in rep] == [('eGFR', 'egfr', 63.0, 'mL/min/1.73m*2', 90.0, None, 'low')]


def test_collection_date_after_a_date_of_birth_on_the_same_line() -> None:
    """'DOB: 01/02/1970 ... Sample collected: 12-Jan-2024' gives the collection date, not none."""
    page = ('Name: SMITH, John  DOB: 01/02/1970 (54y)  Sex: M  Sample collected: 12-Jan-2024 08:30\n'
            'Creatinine 110 umol/L (59 - 104) H\n')
    report = parse_report([page])
    assert report.patient.collected == '2024-01-12' and report.patient.sex == 'male'


def test_ambiguous_numeric_dates_read_the_way_that_keeps_header_dates_together() -> None:
    """02/10 and 02/11 (collected, reported) are February 10 and 11 (a day apart), not October 2 and November 2."""
    from bloodq.analysis.patient import parse_patient

    header = ('DOB: 07/04/1985 Age: 38 Sex: Female\n'
              'Date Collected: 02/10/2024 Date Received: 02/10/2024 Date Reported: 02/11/2024\n')
    us = parse_patient([header])
    assert us.collected == '2024-02-10'
    day_first = parse_patient(['Collected: 02/03/2024 Reported: 03/03/2024\n'])
    assert day_first.collected == '2024-03-02'
    lone = parse_patient(['Collected: 02/03/2024\n'])
    assert lone.collected == '2024-03-02'  # nothing to tell: day/month, as most of the world prints
    slashed = parse_patient(['Sample Collected On : 05/Mar/2024 09:12AM   Reported On : 05/Mar/2024 04:40PM\n'])
    assert slashed.collected == '2024-03-05'  # month names between slashes, as Indian labs print them


def test_name_wrapped_below_its_row_completes_the_name() -> None:
    """'Mean Corpuscular Hb 34.0 g/dL ...' then 'Concentration (MCHC)': one row named in full, read as MCHC."""
    page = ('HAEMATOLOGY\n'
            'Mean Corpuscular Hb 34.0 g/dL 31.5 - 34.5\nConcentration (MCHC)\n'
            'Gamma Glutamyl 42 U/L 0 - 55\nTransferase (GGT)\n'
            'Thyroid Stimulating 2.10 uIU/mL 0.35 - 5.50\nHormone (TSH)\n'
            'Haemoglobin 14.0 g/dL 13.0 - 17.0\n')
    got = [(r.name, r.canonical) for r in parse_report([page]).results]
    assert got == [('Mean Corpuscular Hb Concentration (MCHC)', 'mchc'), ('Gamma Glutamyl Transferase (GGT)', 'ggt'),
                   ('Thyroid Stimulating Hormone (TSH)', 'tsh'), ('Haemoglobin', 'hemoglobin')]


def test_name_wrapped_but_drawn_before_its_row_completes_the_name() -> None:
    """A cell's second line printed first ('Haemoglobin (MCH)' then 'Mean Corpuscular 30.4 pg') joins in reading order."""
    page = 'HAEMATOLOGY\nHaemoglobin (MCH)\nMean Corpuscular 30.4 pg 27 - 32\n'
    assert [(r.name, r.canonical) for r in parse_report([page]).results] == [
        ('Mean Corpuscular Haemoglobin (MCH)', 'mch')]


def test_next_tests_name_line_is_not_a_wrapped_name() -> None:
    """A name line that gets its own data line ('Platelet Count' then '250 10^3/uL ...') stays a row of its own."""
    page = ('HAEMATOLOGY\nSome New Index 5.0 mg/dL 1.0 - 10.0\nPlatelet Count\n250 10^3/uL 150 - 410\n')
    got = [(r.name, r.value_text) for r in parse_report([page]).results]
    assert got == [('Some New Index', '5.0'), ('Platelet Count', '250')]
