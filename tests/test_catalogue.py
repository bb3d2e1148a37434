"""The marker catalogue: its data is complete and consistent, and names/units resolve robustly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bloodq.analysis import catalogue as cat
from bloodq.analysis.catalogue import default_range, is_plausible, lookup, normalise_unit, to_canonical

SPECIALTIES = {'haematology', 'metabolic', 'lipids', 'liver', 'kidney', 'thyroid', 'vitamins', 'iron',
               'inflammation', 'electrolytes'}
REQUIRED = ['hemoglobin', 'hematocrit', 'rbc', 'wbc', 'platelets', 'mpv', 'esr', 'neutrophils_pct',
            'neutrophils_abs', 'glucose_fasting', 'glucose_random', 'hba1c', 'eag', 'insulin_fasting', 'sodium',
            'potassium', 'chloride', 'bicarbonate', 'calcium', 'magnesium', 'phosphorus', 'urea', 'bun',
            'creatinine', 'egfr', 'uric_acid', 'bun_creatinine_ratio', 'bilirubin_total', 'bilirubin_direct',
            'bilirubin_indirect', 'ast', 'alt', 'alp', 'ggt', 'total_protein', 'albumin', 'globulin', 'ag_ratio',
            'cholesterol_total', 'triglycerides', 'hdl', 'ldl', 'vldl', 'non_hdl', 'chol_hdl_ratio', 'tsh',
            't3_total', 't4_total', 'free_t3', 'free_t4', 'iron', 'tibc', 'transferrin_saturation', 'ferritin',
            'vitamin_b12', 'folate', 'vitamin_d_25oh', 'crp', 'hs_crp']


def test_catalogue_size_and_required_markers() -> None:
    """At least 90 markers, including every analyte the product promises."""
    keys = {m.canonical for m in cat.all_markers()}
    assert len(keys) == len(cat.all_markers()) >= 90
    assert not set(REQUIRED) - keys


def test_entries_are_consistent() -> None:
    """Every entry has a known specialty, ordered ranges and critical limits outside the normal range."""
    for m in cat.all_markers():
        assert m.specialty in SPECIALTIES, m.canonical
        assert m.aliases and m.name
        assert m.plausible[0] < m.plausible[1]
        for lo, hi in m.ranges.values():
            assert lo is not None or hi is not None, m.canonical
            if lo is not None and hi is not None:
                assert lo < hi, m.canonical
            for bound in (lo, hi):
                assert bound is None or m.plausible[0] <= bound <= m.plausible[1], m.canonical
        if m.critical is not None:
            low, high = m.critical
            rng = default_range(m, 'male') or default_range(m, 'female')
            assert rng is not None
            if low is not None and rng[0] is not None:
                assert low < rng[0], m.canonical
            if high is not None and rng[1] is not None:
                assert high > rng[1], m.canonical


def test_json_is_data_with_required_fields() -> None:
    """The catalogue is a JSON file with the documented fields on every entry."""
    raw = json.loads((Path(cat.__file__).with_name('catalogue.json')).read_text(encoding='utf-8'))
    for e in raw['markers']:
        assert {'canonical', 'name', 'specialty', 'aliases', 'unit', 'conversions', 'ranges', 'critical'} <= set(e)


def test_every_alias_resolves_to_its_marker() -> None:
    """Each alias looks up to its own marker when given the marker's unit."""
    for m in cat.all_markers():
        for alias in m.aliases:
            found = lookup(alias, m.unit)
            assert found is not None, alias
            assert found.canonical == m.canonical or alias in found.aliases, (alias, m.canonical, found.canonical)


@pytest.mark.parametrize(('name', 'key'), [
    ('Hb', 'hemoglobin'), ('HGB', 'hemoglobin'), ('Haemoglobin', 'hemoglobin'), ('HEMOGLOBIN', 'hemoglobin'),
    ('SGOT', 'ast'), ('S.G.P.T.', 'alt'), ('Total Leukocyte Count (TLC)', 'wbc'), ('WBC', 'wbc'),
    ('Globulin(Calculated)', 'globulin'), ('SODIUM ISE', 'sodium'), ('LDL Cholesterol, Calculated', 'ldl'),
    ('VITAMIN B12; CYANOCOBALAMIN, SERUM', 'vitamin_b12'), ('VITAMIN D, 25 - HYDROXY, SERUM', 'vitamin_d_25oh'),
    ('A : G Ratio', 'ag_ratio'), ('Estimated average glucose (eAG)', 'eag'), ('Serum Creatinine', 'creatinine'),
    ('Bilirubin, Direct', 'bilirubin_direct'), ('T3, Total', 't3_total'), ('GGTP', 'ggt'),
    ('Fasting Blood Sugar', 'glucose_fasting'), ('HbA1c (Glycosylated Hemoglobin)', 'hba1c'),
    ('Urea Nitrogen  Blood', 'bun'), ('C-Reactive Protein', 'crp'), ('hs-CRP', 'hs_crp'),
])
def test_alias_matching(name: str, key: str) -> None:
    """Case, punctuation, parenthesised abbreviations, specimen and method words do not matter."""
    m = lookup(name)
    assert m is not None and m.canonical == key


def test_meaningful_words_are_not_stripped() -> None:
    """'Creatinine Clearance' and 'Urine Creatinine' are not serum creatinine."""
    for name in ('Creatinine Clearance', 'Urine Creatinine', 'Random Urine Protein'):
        m = lookup(name)
        assert m is None or m.canonical != 'creatinine'


@pytest.mark.parametrize(('name', 'unit', 'key'), [
    ('Neutrophils', '%', 'neutrophils_pct'), ('Neutrophils', '10^3/uL', 'neutrophils_abs'),
    ('Lymphocytes', 'thou/mm3', 'lymphocytes_abs'), ('Lymphs (Absolute)', '10*3/uL', 'lymphocytes_abs'),
    ('NEUT#', '', 'neutrophils_abs'), ('Neutrophils %', '', 'neutrophils_pct'), ('PCT', '%', 'plateletcrit'),
    ('PCT', 'ng/mL', 'procalcitonin'), ('Eosinophils', 'x10^9/L', 'eosinophils_abs'),
])
def test_unit_disambiguates(name: str, unit: str, key: str) -> None:
    """The unit (or a #/% in the name) tells a percentage from an absolute count."""
    m = lookup(name, unit)
    assert m is not None and m.canonical == key


def test_context_disambiguates() -> None:
    """Under an 'Absolute' heading, a bare cell name is the absolute count."""
    m = lookup('Monocytes', '', value=0.4, context='CBC / Absolute Leucocyte Count')
    assert m is not None and m.canonical == 'monocytes_abs'


@pytest.mark.parametrize(('unit', 'norm'), [
    ('thou/mm3', '10^3/ul'), ('10^3/uL', '10^3/ul'), ('10*3/uL', '10^3/ul'), ('x10^9/L', '10^3/ul'),
    ('x10E3/uL', '10^3/ul'), ('K/µL', '10^3/ul'), ('mill/mm3', '10^6/ul'), ('x10^12/L', '10^6/ul'),
    ('/cumm', '/ul'), ('cells/µL', '/ul'), ('µmol/L', 'umol/l'), ('umol/L', 'umol/l'), ('mcg/dL', 'ug/dl'),
    ('gm/dL', 'g/dl'), ('g%', 'g/dl'), ('IU/L', 'u/l'), ('mL/min/1.73m²', 'ml/min/1.73m2'), ('mm/1st hr', 'mm/hr'),
])
def test_normalise_unit(unit: str, norm: str) -> None:
    """Spellings of the same quantity normalise to one key."""
    assert normalise_unit(unit) == norm


@pytest.mark.parametrize(('key', 'value', 'unit', 'expected'), [
    ('glucose_fasting', 5.0, 'mmol/L', 90.08), ('cholesterol_total', 5.0, 'mmol/L', 193.35),
    ('triglycerides', 1.0, 'mmol/L', 88.57), ('creatinine', 88.4, 'µmol/L', 1.0), ('hemoglobin', 135, 'g/L', 13.5),
    ('wbc', 7500, '/cumm', 7.5), ('wbc', 7.5, 'x10^9/L', 7.5), ('platelets', 2.5, 'lakhs/cumm', 250.0),
    ('vitamin_d_25oh', 75, 'nmol/L', 30.045), ('hba1c', 48, 'mmol/mol', 6.543), ('tsh', 2.0, 'mIU/L', 2.0),
    ('hematocrit', 0.45, 'L/L', 45.0),
])
def test_to_canonical(key: str, value: float, unit: str, expected: float) -> None:
    """Conversions to the canonical unit (including the affine HbA1c IFCC -> NGSP)."""
    m = cat.get(key)
    assert m is not None
    got = to_canonical(value, unit, m)
    assert got == pytest.approx(expected, rel=1e-3)


def test_to_canonical_unknown_unit() -> None:
    """An unknown or missing unit gives None (except for unitless markers)."""
    hb, ratio = cat.get('hemoglobin'), cat.get('ag_ratio')
    assert hb is not None and ratio is not None
    assert to_canonical(14, 'furlongs', hb) is None
    assert to_canonical(14, '', hb) is None
    assert to_canonical(1.3, '', ratio) == 1.3


def test_default_range_by_sex() -> None:
    """Sex-specific ranges need a sex; 'any' ranges do not."""
    hb, mcv = cat.get('hemoglobin'), cat.get('mcv')
    assert hb is not None and mcv is not None
    assert default_range(hb, 'male') == (13.0, 17.0)
    assert default_range(hb, 'female') == (12.0, 15.0)
    assert default_range(hb, None) is None
    assert default_range(mcv, None) == (83.0, 101.0)


def test_plausibility() -> None:
    """Lab numbers and impossible values are implausible; real ones in any known unit are fine."""
    hb, plt = cat.get('hemoglobin'), cat.get('platelets')
    assert hb is not None and plt is not None
    assert is_plausible(hb, 14.2, 'g/dL') and is_plausible(hb, 142, 'g/L')
    assert not is_plausible(hb, 439854467, '')
    assert is_plausible(plt, 250000, '') and is_plausible(plt, 250, '10^3/uL')


def test_qualitative_lookup() -> None:
    """Qualitative tests have their own canonical keys."""
    assert cat.lookup_qualitative('GFR Category') == 'gfr_category'
    assert cat.lookup_qualitative('Colour') == 'urine_colour'
    assert cat.lookup_qualitative('Nonsense Test') == ''
