"""Unit conversion for clinical thresholds (interpretation side).

Reports print the same analyte in different units (glucose in mg/dL or mmol/L, haemoglobin in
g/dL or g/L, vitamin D in ng/mL or nmol/L). Every threshold in the rules is written in one
*standard* unit per canonical key; :func:`to_standard` converts a printed value into it, or
returns ``None`` when the printed unit is not one we know. ``None`` means "apply no threshold",
so an unknown unit can never turn into a wrong clinical statement.

(The parser's :mod:`bloodq.analysis.unitlex` finds units in text; this module only converts.)
"""

from __future__ import annotations

import re
from functools import lru_cache

#: the unit every threshold for a canonical key is expressed in
STANDARD_UNITS: dict[str, str] = {
    'hemoglobin': 'g/dL', 'hematocrit': '%', 'mcv': 'fL', 'mch': 'pg', 'mchc': 'g/dL', 'rdw': '%',
    'wbc': '10^3/µL', 'neutrophils_abs': '10^3/µL', 'lymphocytes_abs': '10^3/µL', 'platelets': '10^3/µL',
    'neutrophils_pct': '%', 'lymphocytes_pct': '%',
    'glucose_fasting': 'mg/dL', 'glucose': 'mg/dL', 'glucose_random': 'mg/dL', 'glucose_pp': 'mg/dL',
    'hba1c': '%', 'creatinine': 'mg/dL', 'urea': 'mg/dL', 'bun': 'mg/dL', 'egfr': 'mL/min/1.73m²',
    'uric_acid': 'mg/dL', 'bilirubin_total': 'mg/dL', 'ast': 'U/L', 'alt': 'U/L', 'alp': 'U/L', 'ggt': 'U/L',
    'albumin': 'g/dL', 'cholesterol_total': 'mg/dL', 'hdl': 'mg/dL', 'ldl': 'mg/dL', 'vldl': 'mg/dL',
    'non_hdl': 'mg/dL', 'triglycerides': 'mg/dL', 'tsh': 'mIU/L', 'free_t4': 'ng/dL', 't4': 'µg/dL',
    't3': 'ng/dL', 'iron': 'µg/dL', 'tibc': 'µg/dL', 'ferritin': 'ng/mL', 'vitamin_b12': 'pg/mL',
    'folate': 'ng/mL', 'vitamin_d_25oh': 'ng/mL', 'crp': 'mg/L', 'sodium': 'mmol/L', 'potassium': 'mmol/L',
    'calcium': 'mg/dL',
}

_COUNT_KEYS = frozenset({'wbc', 'neutrophils_abs', 'lymphocytes_abs', 'platelets'})
_CHOL = {'mg/dl': 1.0, 'mmol/l': 38.67}
_SAME = {'mmol/l': 1.0, 'meq/l': 1.0}
_ENZYME = {'u/l': 1.0, 'iu/l': 1.0, 'ukat/l': 60.0}
_GLUCOSE = {'mg/dl': 1.0, 'mmol/l': 18.016}

#: normalised printed unit -> factor that turns it into the standard unit
_FACTORS: dict[str, dict[str, float]] = {
    'hemoglobin': {'g/dl': 1.0, 'g/l': 0.1, 'mmol/l': 1.611, 'gm/dl': 1.0, 'gm%': 1.0, 'g%': 1.0},
    'mchc': {'g/dl': 1.0, 'g/l': 0.1, 'gm/dl': 1.0, '%': 1.0},
    'hematocrit': {'%': 1.0, 'l/l': 100.0},
    'mcv': {'fl': 1.0, 'um3': 1.0, 'cu.microns': 1.0},
    'mch': {'pg': 1.0},
    'rdw': {'%': 1.0},
    'neutrophils_pct': {'%': 1.0},
    'lymphocytes_pct': {'%': 1.0},
    'glucose_fasting': _GLUCOSE, 'glucose': _GLUCOSE, 'glucose_random': _GLUCOSE, 'glucose_pp': _GLUCOSE,
    'hba1c': {'%': 1.0},  # mmol/mol is handled separately: the IFCC -> NGSP relation is affine
    'creatinine': {'mg/dl': 1.0, 'umol/l': 1 / 88.4},
    'urea': {'mg/dl': 1.0, 'mmol/l': 6.006},
    'bun': {'mg/dl': 1.0, 'mmol/l': 2.801},
    'egfr': {'ml/min/1.73m2': 1.0, 'ml/min': 1.0, 'ml/min/1.73': 1.0, 'ml/min/1.73sqm': 1.0},
    'uric_acid': {'mg/dl': 1.0, 'umol/l': 1 / 59.48},
    'bilirubin_total': {'mg/dl': 1.0, 'umol/l': 1 / 17.1},
    'ast': _ENZYME, 'alt': _ENZYME, 'alp': _ENZYME, 'ggt': _ENZYME,
    'albumin': {'g/dl': 1.0, 'g/l': 0.1, 'gm/dl': 1.0},
    'cholesterol_total': _CHOL, 'hdl': _CHOL, 'ldl': _CHOL, 'vldl': _CHOL, 'non_hdl': _CHOL,
    'triglycerides': {'mg/dl': 1.0, 'mmol/l': 88.57},
    'tsh': {'miu/l': 1.0, 'uiu/ml': 1.0, 'mu/l': 1.0, 'uu/ml': 1.0},
    'free_t4': {'ng/dl': 1.0, 'pmol/l': 1 / 12.87},
    't4': {'ug/dl': 1.0, 'nmol/l': 1 / 12.87},
    't3': {'ng/dl': 1.0, 'nmol/l': 65.1, 'ng/ml': 100.0},
    'iron': {'ug/dl': 1.0, 'umol/l': 5.585},
    'tibc': {'ug/dl': 1.0, 'umol/l': 5.585},
    'ferritin': {'ng/ml': 1.0, 'ug/l': 1.0, 'pmol/l': 1 / 2.247},
    'vitamin_b12': {'pg/ml': 1.0, 'ng/l': 1.0, 'pmol/l': 1.355},
    'folate': {'ng/ml': 1.0, 'ug/l': 1.0, 'nmol/l': 1 / 2.266},
    'vitamin_d_25oh': {'ng/ml': 1.0, 'ug/l': 1.0, 'nmol/l': 1 / 2.496},
    'crp': {'mg/l': 1.0, 'mg/dl': 10.0},
    'sodium': _SAME, 'potassium': _SAME,
    'calcium': {'mg/dl': 1.0, 'mmol/l': 4.008},
}

#: wide sanity windows in the standard unit; a converted value outside them is treated as a
#: misread (wrong unit, shifted decimal) rather than fed to a threshold
_PLAUSIBLE: dict[str, tuple[float, float]] = {
    'hemoglobin': (2, 26), 'hematocrit': (5, 80), 'mcv': (40, 160), 'mch': (10, 60), 'mchc': (20, 45),
    'rdw': (5, 40), 'wbc': (0.05, 500), 'neutrophils_abs': (0, 300), 'lymphocytes_abs': (0, 400),
    'platelets': (1, 3000), 'neutrophils_pct': (0, 100), 'lymphocytes_pct': (0, 100),
    'glucose_fasting': (10, 2500), 'glucose': (10, 2500), 'glucose_random': (10, 2500),
    'glucose_pp': (10, 2500), 'hba1c': (3, 20), 'creatinine': (0.1, 30), 'urea': (2, 700),
    'bun': (1, 300), 'egfr': (1, 200), 'uric_acid': (0.5, 25), 'bilirubin_total': (0.05, 60),
    'ast': (1, 30000), 'alt': (1, 30000), 'alp': (5, 5000), 'ggt': (1, 5000), 'albumin': (0.5, 7),
    'cholesterol_total': (30, 2000), 'hdl': (5, 250), 'ldl': (5, 1000), 'vldl': (1, 500),
    'non_hdl': (5, 1500), 'triglycerides': (10, 15000), 'tsh': (0.001, 500), 'free_t4': (0.05, 10),
    't4': (0.5, 40), 't3': (10, 1000), 'iron': (5, 1000), 'tibc': (50, 1000), 'ferritin': (0.5, 100000),
    'vitamin_b12': (20, 10000), 'folate': (0.2, 100), 'vitamin_d_25oh': (1, 300), 'crp': (0, 600),
    'sodium': (90, 200), 'potassium': (1, 12), 'calcium': (3, 20),
}

_SUPERSCRIPTS = str.maketrans('⁰¹²³⁴⁵⁶⁷⁸⁹', '0123456789')
_COUNT_WORDS = {'k': 3, 'thou': 3, 'thousand': 3, 'lakh': 5, 'lakhs': 5, 'lac': 5, 'lacs': 5, 'mill': 6, 'million': 6}
_COUNT_RE = re.compile(r'^(?:10\^?e?(\d{1,2})|([a-z]+))?/(ul|l|nl)$')


@lru_cache(maxsize=1024)  # a report repeats a few units; the rewrites cost more than the lookup
def norm_unit(unit: str) -> str:
    """Fold the spellings of one unit together: case, spaces, µ/u/mc, superscripts, cu mm."""
    u = unit.strip().lower().replace(' ', '')
    u = u.replace('µ', 'u').replace('μ', 'u').replace('percent', '%')
    # '10³' must keep its exponent meaning once the superscript becomes a plain digit
    u = re.sub('10([⁰¹²³⁴⁵⁶⁷⁸⁹]+)', lambda m: '10^' + m.group(1), u)
    u = u.translate(_SUPERSCRIPTS)
    # 'mcg' / 'mcmol' / 'mcl' are the ASCII-safe spellings of µg / µmol / µL on many reports
    u = re.sub(r'mc(?=g|mol|l|iu|u)', 'u', u)
    u = u.replace('×', 'x').replace('*', '^').replace('per', '/')
    u = re.sub(r'(cu\.?mm|c\.?mm|mm\^?3)$', 'ul', u)
    if u.endswith('/1.73m^2'):
        u = u.replace('^', '')
    return u


def _count_factor(unit: str) -> float | None:
    """Factor from a normalised cell-count unit to 10^3/µL (which equals 10^9/L)."""
    m = _COUNT_RE.match(unit.replace('x10', '10').replace('cells', ''))
    if not m:
        return None
    exp_text, word, volume = m.groups()
    if exp_text is not None:
        exp = int(exp_text)
    elif word is not None:
        if word not in _COUNT_WORDS:
            return None
        exp = _COUNT_WORDS[word]
    else:
        exp = 0
    # counts per µL -> 10^3/µL needs 10^(exp-3); a nanolitre is 10^3 and a litre 10^6 times a µL
    shift = {'ul': -3, 'nl': -6, 'l': -9}[volume]
    return float(10.0 ** (exp + shift))


def to_standard(key: str, value: float, unit: str) -> float | None:
    """Return ``value`` in the standard unit for ``key``; ``None`` when the unit is unknown.

    An empty unit is taken as the standard one only when the value is plausible in it, so a
    bare ``5.4`` for glucose (likely mmol/L) is not read as 5.4 mg/dL.
    """
    if key not in STANDARD_UNITS:
        return None
    u = norm_unit(unit)
    converted: float | None
    if not u:
        converted = value
    elif key == 'hba1c' and u == 'mmol/mol':
        converted = value * 0.09148 + 2.152  # IFCC -> NGSP master equation
    elif key in _COUNT_KEYS:
        factor = _count_factor(u)
        converted = None if factor is None else value * factor
    else:
        factor = _FACTORS.get(key, {}).get(u)
        converted = None if factor is None else value * factor
    if converted is None:
        return None
    lo, hi = _PLAUSIBLE.get(key, (float('-inf'), float('inf')))
    return converted if lo <= converted <= hi else None


def from_standard(key: str, value: float, unit: str) -> float | None:
    """Inverse of :func:`to_standard` for factor-based units (used to print derived values)."""
    u = norm_unit(unit)
    if not u:
        return value
    factor = _FACTORS.get(key, {}).get(u)
    return None if not factor else value / factor
