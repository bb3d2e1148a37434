"""Rules for blood sugar, lipids, liver, kidney, thyroid and electrolytes.

Guideline cut-offs used: ADA (HbA1c, fasting glucose), NCEP ATP III (lipids), KDIGO 2012 (eGFR
categories). Categories from cut-offs are added to, never substituted for, the printed flag:
a value the lab calls normal is never described as alarming (:func:`cap_for_flag`).
"""

from __future__ import annotations

from bloodq.analysis.labs import Hit, Labs, cap_for_flag, fmt_num
from bloodq.analysis.model import Severity
from bloodq.analysis.rules_blood import hit

_WITHIN = ' The lab marks this within its printed range; the category comes from guideline cut-offs.'


def _note(labs: Labs, key: str) -> str:
    return _WITHIN if labs.flag(key) == 'normal' else ''


def _glycaemic_category(labs: Labs) -> dict[str, str]:
    cats: dict[str, str] = {}
    a1c = labs.std('hba1c')
    if a1c is not None:
        cats['hba1c'] = 'diabetes' if a1c >= 6.5 else 'prediabetes' if a1c >= 5.7 else 'normal'
    fg = labs.std('glucose_fasting')
    if fg is not None:
        cats['glucose_fasting'] = 'diabetes' if fg >= 126 else 'prediabetes' if fg >= 100 else 'normal'
    return cats


def _glucose_extremes(labs: Labs) -> list[Hit]:
    out: list[Hit] = []
    for key in ('glucose_fasting', 'glucose', 'glucose_random', 'glucose_pp'):
        v = labs.std(key)
        if v is None or labs.flag(key) == 'normal':
            continue
        if v < 54:
            out.append(hit('hypoglycaemia', 'metabolic', 'critical', 'Very low blood glucose',
                           f'{labs.show(key)}. A glucose below 54 mg/dL (3.0 mmol/L) is significant hypoglycaemia '
                           'and needs prompt medical attention, especially with symptoms such as sweating, '
                           'shaking or confusion.', [key]))
        elif v < 70:
            out.append(hit('hypoglycaemia', 'metabolic', 'high', 'Low blood glucose',
                           f'{labs.show(key)}. Below 70 mg/dL (3.9 mmol/L) is low; a delayed sample can also read '
                           'falsely low, so discuss it with your doctor.', [key]))
        elif v > 400:
            out.append(hit('glucose_very_high', 'metabolic', 'critical', 'Very high blood glucose',
                           f'{labs.show(key)}. A glucose above 400 mg/dL (22 mmol/L) needs prompt medical '
                           'attention.', [key]))
    return out


def metabolic(labs: Labs) -> list[Hit]:
    """HbA1c / fasting glucose categories, extremes, non-fasting glucose and uric acid."""
    out = _glucose_extremes(labs)
    extreme = {m for h in out for m in h.finding.markers}
    cats = {k: c for k, c in _glycaemic_category(labs).items() if k not in extreme}
    for cat, sev, title, meaning in (
            ('diabetes', 'high', 'in the diabetes range',
             ('Diabetes is diagnosed when a result like this is confirmed by a repeat test or a second measure; '
             'your doctor will advise on next steps.')),
            ('prediabetes', 'moderate', 'in the prediabetes range',
             ('This means a higher risk of developing type 2 diabetes; it is often reversible with changes to '
             'diet, activity and weight.'))):
        keys = [k for k, c in cats.items() if c == cat]
        if not keys:
            continue
        cuts = {'hba1c': ('HbA1c', '6.5% or above' if cat == 'diabetes' else '5.7–6.4%'),
                'glucose_fasting': ('fasting glucose',
                                    '126 mg/dL (7.0 mmol/L) or above' if cat == 'diabetes'
                                    else '100–125 mg/dL (5.6–6.9 mmol/L)')}
        facts = '; '.join(f'{labs.show(k)} is in the {cat} range for {cuts[k][0]} ({cuts[k][1]})' for k in keys)
        both = len(keys) == 2
        label = 'HbA1c and fasting glucose both' if both else cuts[keys[0]][0].capitalize()
        flags = [labs.flag(k) for k in keys]
        severity: Severity = sev  # type: ignore[assignment]
        note = ''
        if all(f == 'normal' for f in flags):
            severity = cap_for_flag(severity, 'normal')
            note = _WITHIN
        detail = f'{facts}. {meaning}{note}'
        if both:
            detail += ' The two tests agree.'
        out.append(hit('diabetes_range' if cat == 'diabetes' else 'prediabetes', 'metabolic', severity,
                       f'{label} {title}', detail, keys))
    for key in ('glucose', 'glucose_random', 'glucose_pp'):
        v = labs.std(key)
        if key in extreme or not labs.high(key, above=200):
            continue
        if v is not None and v >= 200:
            out.append(hit('glucose_high', 'metabolic', 'moderate', 'Raised glucose (non-fasting)',
                           f'{labs.show(key)}. A non-fasting glucose of 200 mg/dL (11.1 mmol/L) or more can '
                           'indicate diabetes, especially with thirst or frequent urination; HbA1c or a fasting '
                           'glucose confirms it.', [key]))
        else:
            out.append(hit('glucose_high', 'metabolic', 'low', 'Glucose above the range',
                           f'{labs.show(key)}. Glucose varies with the last meal; if this sample was not fasting a '
                           'mild rise is common, and HbA1c gives a longer-term picture.', [key]))
    if labs.high('uric_acid', above=7.0):
        ua = labs.std('uric_acid')
        out.append(hit('uric_acid_high', 'metabolic', 'moderate' if ua is not None and ua > 10 else 'low',
                       'Raised uric acid',
                       f'{labs.show("uric_acid")}. High uric acid can lead to gout or kidney stones in some '
                       'people; alcohol (especially beer), sugary drinks, red meat and seafood, some medicines '
                       'and kidney function all affect it.', ['uric_acid']))
    return out


def lipids(labs: Labs) -> list[Hit]:
    """NCEP ATP III categories for LDL, total cholesterol, triglycerides, HDL and non-HDL."""
    out: list[Hit] = []
    ldl = labs.std('ldl')
    if ldl is not None:
        grade: tuple[Severity, str] | None = (
            ('high', 'Very high LDL cholesterol') if ldl >= 190 else
            ('moderate', 'High LDL cholesterol') if ldl >= 160 else
            ('low', 'Borderline-high LDL cholesterol') if ldl >= 130 else
            ('low', 'LDL cholesterol above the range') if labs.flag('ldl') == 'high' else None)
        if grade:
            cat = ('190 mg/dL or more is very high' if ldl >= 190 else '160–189 mg/dL is high' if ldl >= 160
                   else '130–159 mg/dL is borderline high' if ldl >= 130
                   else f'{fmt_num(ldl)} mg/dL is near optimal by NCEP categories (under 100 is optimal)'
                   if ldl >= 100 else 'under 100 mg/dL is optimal by NCEP categories')
            out.append(hit('ldl_high', 'lipids', cap_for_flag(grade[0], labs.flag('ldl')), grade[1],
                           f'{labs.show("ldl")}; {cat}. LDL is the main cholesterol that builds up in artery '
                           'walls; the right target depends on your overall heart risk (blood pressure, smoking, '
                           f'diabetes, family history).{_note(labs, "ldl")}', ['ldl']))
    elif labs.high('ldl'):
        out.append(hit('ldl_high', 'lipids', 'low', 'LDL cholesterol above the range', f'{labs.show("ldl")}.',
                       ['ldl']))
    tc = labs.std('cholesterol_total')
    if tc is not None and (tc >= 200 or labs.flag('cholesterol_total') == 'high'):
        sev: Severity = 'moderate' if tc >= 240 else 'low'
        cat = ('240 mg/dL or more is high' if tc >= 240 else '200–239 mg/dL is borderline high' if tc >= 200
               else "under 200 mg/dL is desirable by NCEP categories, though above this lab's range")
        out.append(hit('tc_high', 'lipids', cap_for_flag(sev, labs.flag('cholesterol_total')),
                       'High total cholesterol' if tc >= 240 else 'Total cholesterol above desirable',
                       f'{labs.show("cholesterol_total")}; {cat}.{_note(labs, "cholesterol_total")}',
                       ['cholesterol_total'], ['hdl'] if labs.has('hdl') else []))
    tg = labs.std('triglycerides')
    if tg is not None and (tg >= 150 or labs.flag('triglycerides') == 'high'):
        sev = 'high' if tg >= 500 else 'moderate' if tg >= 200 else 'low'
        cat = ('500 mg/dL or more is very high and raises the risk of pancreatitis' if tg >= 500
               else '200–499 mg/dL is high' if tg >= 200 else '150–199 mg/dL is borderline high' if tg >= 150
               else "this is above the lab's range")
        out.append(hit('tg_high', 'lipids', cap_for_flag(sev, labs.flag('triglycerides')), 'Raised triglycerides',
                       f'{labs.show("triglycerides")}; {cat}. Triglycerides respond strongly to sugar, refined '
                       'carbohydrates and alcohol, and read higher if the sample was not fasting.'
                       f'{_note(labs, "triglycerides")}', ['triglycerides']))
    hdl = labs.std('hdl')
    if labs.low('hdl', below=40) or (hdl is not None and hdl < 40 and labs.flag('hdl') != 'normal'):
        out.append(hit('hdl_low', 'lipids', 'low', 'Low HDL ("good") cholesterol',
                       f'{labs.show("hdl")}. Under 40 mg/dL is considered low; HDL helps clear cholesterol, and '
                       'regular exercise and not smoking raise it.', ['hdl']))
    if ldl is None:
        non_hdl = labs.std('non_hdl')
        nh_key = 'non_hdl'
        calc = labs.derived.get('non_hdl_calc')
        if non_hdl is None and calc is not None and tc is not None and hdl is not None:
            non_hdl, nh_key = tc - hdl, 'non_hdl_calc'
        if non_hdl is not None and non_hdl >= 160:
            shown = labs.show('non_hdl') if nh_key == 'non_hdl' else f'Non-HDL cholesterol (calculated) {fmt_num(non_hdl)} mg/dL'
            out.append(hit('ldl_high', 'lipids', cap_for_flag('moderate' if non_hdl >= 190 else 'low',
                                                              labs.flag('non_hdl')),
                           'Raised non-HDL cholesterol',
                           f'{shown}; 160 mg/dL or more is above the desirable level (under 130). LDL is not '
                           'printed, and non-HDL covers all the cholesterol that can build up in arteries.',
                           [k for k in ('non_hdl', 'cholesterol_total') if labs.has(k)], ['hdl']))
    ratio = labs.ratio('tc_hdl_ratio')
    if ratio is not None and ratio > 5 and labs.flag('chol_hdl_ratio') != 'normal':
        out.append(hit('ratio_high', 'lipids', 'low', 'High total cholesterol to HDL ratio',
                       f'Total cholesterol / HDL is {fmt_num(ratio)}; above 5 is considered high (under 3.5 is '
                       'ideal). The ratio improves by lowering LDL or raising HDL.',
                       [k for k in ('chol_hdl_ratio',) if labs.has(k)], ['cholesterol_total', 'hdl']))
    return out
