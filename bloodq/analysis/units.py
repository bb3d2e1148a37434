"""Unit conversion for the interpretation rules: every marker has one standard unit.

NOTE (extraction/parsing engineer): this file was accidentally overwritten by the parser work at
06:39 and has been reconstructed from its call sites (``to_standard``, ``from_standard``,
``norm_unit`` in ``labs.py`` / ``derived.py``). Owner: please check it against your original.

Standard units: g/dL haemoglobin, 10^3/µL counts, mg/dL glucose, lipids, creatinine, urea, BUN,
uric acid, bilirubin, calcium; g/dL proteins; U/L enzymes; mmol/L electrolytes; ng/mL vitamin D;
pg/mL B12; ng/mL folate and ferritin; µg/dL iron and TIBC; mg/L CRP; µIU/mL TSH.
"""

from __future__ import annotations

import re

__all__ = ['STANDARD', 'from_standard', 'norm_unit', 'to_standard']

_COUNT = {'10^3/ul': 1.0, '/ul': 0.001, '10^5/ul': 100.0}
_MG_DL_GLUCOSE = {'mg/dl': 1.0, 'mmol/l': 18.016}
_MG_DL_CHOL = {'mg/dl': 1.0, 'mmol/l': 38.67}
_G_DL = {'g/dl': 1.0, 'g/l': 0.1}

#: canonical key -> (standard unit as printed, {normalised unit: factor to the standard unit})
STANDARD: dict[str, tuple[str, dict[str, float]]] = {
    'hemoglobin': ('g/dL', {**_G_DL, 'mmol/l': 1.611}),
    'wbc': ('10^3/µL', _COUNT),
    'neutrophils_abs': ('10^3/µL', _COUNT),
    'lymphocytes_abs': ('10^3/µL', _COUNT),
    'platelets': ('10^3/µL', _COUNT),
    'rbc': ('10^6/µL', {'10^6/ul': 1.0, '/ul': 1e-6}),
    'glucose_fasting': ('mg/dL', _MG_DL_GLUCOSE),
    'glucose_random': ('mg/dL', _MG_DL_GLUCOSE),
    'glucose_pp': ('mg/dL', _MG_DL_GLUCOSE),
    'glucose': ('mg/dL', _MG_DL_GLUCOSE),
    'hba1c': ('%', {'%': 1.0}),
    'cholesterol_total': ('mg/dL', _MG_DL_CHOL),
    'hdl': ('mg/dL', _MG_DL_CHOL),
    'ldl': ('mg/dL', _MG_DL_CHOL),
    'vldl': ('mg/dL', _MG_DL_CHOL),
    'non_hdl': ('mg/dL', _MG_DL_CHOL),
    'triglycerides': ('mg/dL', {'mg/dl': 1.0, 'mmol/l': 88.57}),
    'creatinine': ('mg/dL', {'mg/dl': 1.0, 'umol/l': 1 / 88.4, 'mmol/l': 1000 / 88.4}),
    'urea': ('mg/dL', {'mg/dl': 1.0, 'mmol/l': 6.006}),
    'bun': ('mg/dL', {'mg/dl': 1.0, 'mmol/l': 2.801}),
    'uric_acid': ('mg/dL', {'mg/dl': 1.0, 'umol/l': 1 / 59.48, 'mmol/l': 1000 / 59.48}),
    'egfr': ('mL/min/1.73m²', {'ml/min/1.73m2': 1.0, 'ml/min': 1.0}),
    'bilirubin_total': ('mg/dL', {'mg/dl': 1.0, 'umol/l': 1 / 17.1}),
    'bilirubin_direct': ('mg/dL', {'mg/dl': 1.0, 'umol/l': 1 / 17.1}),
    'albumin': ('g/dL', _G_DL),
    'total_protein': ('g/dL', _G_DL),
    'globulin': ('g/dL', _G_DL),
    'ast': ('U/L', {'u/l': 1.0}),
    'alt': ('U/L', {'u/l': 1.0}),
    'alp': ('U/L', {'u/l': 1.0}),
    'ggt': ('U/L', {'u/l': 1.0}),
    'sodium': ('mmol/L', {'mmol/l': 1.0, 'meq/l': 1.0}),
    'potassium': ('mmol/L', {'mmol/l': 1.0, 'meq/l': 1.0}),
    'chloride': ('mmol/L', {'mmol/l': 1.0, 'meq/l': 1.0}),
    'calcium': ('mg/dL', {'mg/dl': 1.0, 'mmol/l': 4.008, 'meq/l': 2.004}),
    'tsh': ('µIU/mL', {'uiu/ml': 1.0, 'miu/l': 1.0, 'mu/l': 1.0}),
    'vitamin_d_25oh': ('ng/mL', {'ng/ml': 1.0, 'ug/l': 1.0, 'nmol/l': 1 / 2.496}),
    'vitamin_b12': ('pg/mL', {'pg/ml': 1.0, 'ng/l': 1.0, 'pmol/l': 1.355}),
    'folate': ('ng/mL', {'ng/ml': 1.0, 'ug/l': 1.0, 'nmol/l': 1 / 2.266}),
    'ferritin': ('ng/mL', {'ng/ml': 1.0, 'ug/l': 1.0, 'pmol/l': 1 / 2.247}),
    'iron': ('µg/dL', {'ug/dl': 1.0, 'umol/l': 5.585}),
    'tibc': ('µg/dL', {'ug/dl': 1.0, 'umol/l': 5.585}),
    'crp': ('mg/L', {'mg/l': 1.0, 'mg/dl': 10.0}),
}

_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(a), b)
    for a, b in (
        (r'[µμ]', 'u'), (r'(?<![a-z])mc(?=[a-z])', 'u'), (r'×', 'x'), (r'²', '2'), (r'³', '^3'),
        (r'^x(?=10)', ''), (r'10[*e](?=\d)', '10^'), (r'(?<![a-z])gms?(?![a-z])', 'g'),
        (r'^(m?g)%$', r'\1/dl'), (r'(?:cumm|cmm|mm\^?3)$', 'ul'), (r'^cells/', '/'),
        (r'^(?:thousands?|thou|k)/', '10^3/'), (r'^(?:millions?|mill|mil|m)/', '10^6/'),
        (r'^lakhs?/', '10^5/'), (r'^10\^9/l$', '10^3/ul'), (r'^10\^12/l$', '10^6/ul'),
        (r'(?<![a-z])iu/', 'u/'), (r'^ml/min/1\.73(?:m\^?2)?$', 'ml/min/1.73m2'),
    )
)


def norm_unit(unit: str) -> str:
    """A comparable spelling of a unit: lower case, no spaces, µ as u (``'mmol/L'`` -> ``'mmol/l'``)."""
    u = unit.strip().lower().replace(' ', '')
    for pattern, repl in _REWRITES:
        u = pattern.sub(repl, u)
    return u


def to_standard(key: str, value: float, unit: str) -> float | None:
    """``value`` printed in ``unit`` expressed in the standard unit of ``key``; None when unknown."""
    entry = STANDARD.get(key)
    if entry is None:
        return None
    factor = entry[1].get(norm_unit(unit))
    return None if factor is None else value * factor


def from_standard(key: str, value: float, unit: str) -> float | None:
    """A standard-unit ``value`` of ``key`` expressed in ``unit``; None when unknown."""
    entry = STANDARD.get(key)
    if entry is None:
        return None
    factor = entry[1].get(norm_unit(unit))
    return None if not factor else value / factor
