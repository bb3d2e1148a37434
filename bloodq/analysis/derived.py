"""Values computed from printed results: eGFR (CKD-EPI 2021), non-HDL, ratios, TSAT.

Each value is produced only when all of its inputs are on the report in a unit we can read;
nothing is estimated from missing data. A value the report already prints (eGFR, non-HDL) is
never replaced: eGFR is computed as a cross-check only, non-HDL is skipped.
"""

from __future__ import annotations

import math

from bloodq.analysis.conversions import from_standard, norm_unit
from bloodq.analysis.labs import PRINTED_COUNTERPART, Labs, fmt_num
from bloodq.analysis.model import DerivedValue, ParsedReport, Patient

EGFR_UNIT = 'mL/min/1.73m²'


def ckd_epi_2021(creatinine_mg_dl: float, age: float, sex: str) -> float:
    """eGFR in mL/min/1.73m² by the race-free CKD-EPI 2021 creatinine equation."""
    female = sex == 'female'
    kappa = 0.7 if female else 0.9
    alpha = -0.241 if female else -0.302
    ratio = creatinine_mg_dl / kappa
    egfr = 142.0 * math.pow(min(ratio, 1.0), alpha) * math.pow(max(ratio, 1.0), -1.200) * math.pow(0.9938, age)
    return egfr * 1.012 if female else egfr


def _egfr(labs: Labs, patient: Patient) -> DerivedValue | None:
    scr = labs.std('creatinine')
    # the equation is validated for adults only; children need a different (Schwartz) equation
    if scr is None or patient.age is None or patient.sex is None or patient.age < 18:
        return None
    value = round(ckd_epi_2021(scr, patient.age, patient.sex))
    note = f'CKD-EPI 2021 from creatinine {fmt_num(scr)} mg/dL, age {patient.age:g}, {patient.sex}.'
    printed = labs.std('egfr')
    if labs.has('egfr'):
        shown = fmt_num(printed) if printed is not None else labs.show('egfr')
        note += f' Cross-check only: the report prints eGFR {shown}, which stays the reference value.'
        if printed is not None and abs(printed - value) > 0.1 * max(printed, value):
            note += ' The difference is likely a different equation (e.g. CKD-EPI 2009 or MDRD) at the lab.'
    return DerivedValue('eGFR (calculated)', 'egfr_calc', float(value), EGFR_UNIT, ['creatinine'], note)


def _lipid_unit(labs: Labs) -> str:
    """Print derived lipid values in mmol/L when the report does, else mg/dL."""
    tc = labs.get('cholesterol_total')
    return 'mmol/L' if tc is not None and norm_unit(tc.unit) == 'mmol/l' else 'mg/dL'


def _in_unit(key: str, mg_dl: float, unit: str) -> float:
    value = from_standard(key, mg_dl, unit)
    return mg_dl if value is None else value


def _lipids(labs: Labs) -> list[DerivedValue]:
    out: list[DerivedValue] = []
    tc, hdl, ldl, tg = (labs.std(k) for k in ('cholesterol_total', 'hdl', 'ldl', 'triglycerides'))
    unit = _lipid_unit(labs)
    digits = 2 if unit == 'mmol/L' else 0
    if tc is not None and hdl is not None and hdl > 0:
        if not labs.has('non_hdl'):
            value = round(_in_unit('non_hdl', tc - hdl, unit), digits)
            out.append(DerivedValue('Non-HDL cholesterol', 'non_hdl_calc', value, unit,
                                    ['cholesterol_total', 'hdl'], 'Total cholesterol minus HDL.'))
        out.append(DerivedValue('Total cholesterol / HDL ratio', 'tc_hdl_ratio', round(tc / hdl, 2), '',
                                ['cholesterol_total', 'hdl'], 'Lower is better; above 5 is considered high.'))
        if ldl is None and tg is not None and tg < 400:
            # Friedewald is unreliable with TG >= 400 mg/dL, so no LDL is offered there
            calc = tc - hdl - tg / 5
            if calc > 0:
                out.append(DerivedValue('LDL cholesterol (calculated)', 'ldl_calc',
                                        round(_in_unit('ldl', calc, unit), digits), unit,
                                        ['cholesterol_total', 'hdl', 'triglycerides'],
                                        'Friedewald estimate (TC − HDL − TG/5); the report prints no LDL.'))
    if ldl is not None and hdl is not None and hdl > 0:
        out.append(DerivedValue('LDL / HDL ratio', 'ldl_hdl_ratio', round(ldl / hdl, 2), '', ['ldl', 'hdl'],
                                'Lower is better; above 3.5 is considered high.'))
    return out


def _others(labs: Labs) -> list[DerivedValue]:
    out: list[DerivedValue] = []
    ast, alt = labs.std('ast'), labs.std('alt')
    if ast is not None and alt is not None and alt > 0:
        out.append(DerivedValue('AST / ALT ratio (De Ritis)', 'ast_alt_ratio', round(ast / alt, 2), '',
                                ['ast', 'alt'], 'Mainly meaningful when the enzymes are raised.'))
    iron, tibc = labs.std('iron'), labs.std('tibc')
    if iron is not None and tibc is not None and tibc > 0:
        out.append(DerivedValue('Transferrin saturation', 'tsat', round(100 * iron / tibc, 1), '%',
                                ['iron', 'tibc'], 'Iron ÷ TIBC; about 20–45% is usual.'))
    ca, alb = labs.std('calcium'), labs.std('albumin')
    if ca is not None and alb is not None and (alb < 3.5 or labs.low('albumin')):
        # the albumin correction only matters when albumin is low; otherwise it adds noise
        corrected = ca + 0.8 * (4.0 - alb)
        r = labs.get('calcium')
        unit = r.unit if r is not None and norm_unit(r.unit) in ('mg/dl', 'mmol/l') else 'mg/dL'
        digits = 2 if norm_unit(unit) == 'mmol/l' else 1
        out.append(DerivedValue('Calcium corrected for albumin', 'calcium_corrected',
                                round(_in_unit('calcium', corrected, unit), digits), unit, ['calcium', 'albumin'],
                                'Calcium + 0.8 × (4.0 − albumin g/dL); about 8.5–10.5 mg/dL is usual.'))
    bun, scr = labs.std('bun'), labs.std('creatinine')
    if bun is not None and scr is not None and scr > 0:
        out.append(DerivedValue('BUN / creatinine ratio', 'bun_creatinine_ratio', round(bun / scr, 1), '',
                                ['bun', 'creatinine'], 'About 10–20 is usual.'))
    return out


def compute_derived(report: ParsedReport) -> list[DerivedValue]:
    """Every derived value whose inputs are on ``report``."""
    labs = Labs(report)
    out: list[DerivedValue] = []
    egfr = _egfr(labs, report.patient)
    if egfr is not None:
        out.append(egfr)
    out.extend(_lipids(labs))
    out.extend(_others(labs))
    # a ratio the report prints itself is the reference; a computed twin would only add noise
    return [d for d in out if not labs.has(PRINTED_COUNTERPART.get(d.canonical, ''))]
