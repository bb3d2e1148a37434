"""Rules for the blood count, iron stores, vitamins and inflammation markers.

Thresholds are in the standard units of :mod:`bloodq.analysis.conversions`. A rule fires on the
printed flag first; thresholds only grade severity or stand in when no range is printed.
"""

from __future__ import annotations

from bloodq.analysis.conversions import norm_unit
from bloodq.analysis.labs import Hit, Labs, cap_for_flag, fmt_num
from bloodq.analysis.model import Finding, Severity


def hit(tag: str, specialty: str, severity: Severity, title: str, detail: str, markers: list[str],
        context: tuple[str, ...] | list[str] = ()) -> Hit:
    """Build a :class:`Hit`; markers (then context markers) keep their order and lose duplicates."""
    keys = [m for m in dict.fromkeys([*markers, *context]) if m]
    explained = {m for m in markers if m}
    return Hit(tag, Finding(specialty, severity, title, detail, keys), tuple(k for k in keys if k not in explained))


def _present(labs: Labs, keys: tuple[str, ...]) -> list[str]:
    return [k for k in keys if labs.has(k)]


def _anaemia(labs: Labs) -> list[Hit]:
    hb = labs.std('hemoglobin')
    cut = 13.0 if labs.patient.sex == 'male' else 12.0  # WHO adult cut-offs; 12 when sex is unknown
    if not labs.low('hemoglobin', below=cut):
        return []
    if hb is not None and hb < 7:
        sev: Severity = 'critical'
    elif hb is not None and hb < 8:
        sev = 'high'
    elif hb is not None and hb < 10:
        sev = 'moderate'
    else:
        sev = 'low'
    extra = [k for k in ('mch', 'mchc', 'rdw', 'hematocrit', 'rbc') if labs.flag(k) in ('low', 'high')]
    shown = labs.show('hemoglobin')
    lead = 'Very low haemoglobin' if sev == 'critical' else 'Low haemoglobin'
    urgent = ' A haemoglobin below 7 g/dL needs prompt medical review.' if sev == 'critical' else ''
    if labs.low('mcv', below=80):
        return [_microcytic(labs, sev, extra, lead, urgent)]
    if labs.high('mcv', above=100):
        b12_folate = _present(labs, ('vitamin_b12', 'folate'))
        lows = [k for k in b12_folate if labs.low(k)]
        if lows:
            tail = ' '.join(f'{labs.show(k)} is low, which fits this pattern.' for k in lows)
        elif b12_folate:
            tail = (f'{" and ".join(labs.name(k) for k in b12_folate)} {"is" if len(b12_folate) == 1 else "are"}'
                    ' not low on this report, so other causes are worth considering.')
        else:
            tail = 'Vitamin B12 and folate levels would help find the cause.'
        detail = (f'{shown} with {labs.show("mcv")}. Large red cells with anaemia are most often due to low '
                  'vitamin B12 or folate; alcohol, liver disease, an underactive thyroid and some medicines are '
                  f'other causes. {tail}{urgent}')
        return [hit('anaemia_macrocytic', 'haematology', sev,
                    f'{lead} with large red cells (macrocytic anaemia pattern)', detail,
                    ['hemoglobin', 'mcv', *extra], b12_folate)]
    if labs.has('mcv'):
        detail = (f'{shown}; red-cell size ({labs.show("mcv")}) is normal. Causes of anaemia with normal-sized '
                  'cells include recent blood loss, long-standing illness or inflammation, kidney disease and '
                  'early or mixed deficiencies; a doctor may check reticulocytes, ferritin, B12, folate and '
                  'kidney function.')
        title = f'{lead} with normal-sized red cells (normocytic anaemia)'
    else:
        detail = (f'{shown}. Red-cell size (MCV) is not on this report; it helps narrow down the cause '
                  '(iron, B12/folate or other).')
        title = f'{lead} (anaemia)'
    detail += urgent
    return [hit('anaemia', 'haematology', sev, title, detail, ['hemoglobin', 'mcv', *extra])]


def _microcytic(labs: Labs, sev: Severity, extra: list[str], lead: str, urgent: str) -> Hit:
    iron_keys = _present(labs, ('ferritin', 'iron', 'tibc'))
    if labs.low('ferritin', below=15):
        tail = f'{labs.show("ferritin")} is low as well, which supports iron deficiency.'
    elif labs.has('ferritin'):
        tail = (f'{labs.show("ferritin")} is not low, so causes other than simple iron deficiency (such as '
                'thalassaemia trait or inflammation) are worth considering.')
    else:
        tail = 'Iron studies (ferritin, iron, TIBC / transferrin saturation) would clarify the cause.'
    detail = (f'{labs.show("hemoglobin")} with {labs.show("mcv")}. Small red cells with low haemoglobin most '
              'often point to iron deficiency; thalassaemia trait and long-standing inflammation are other '
              f'causes. {tail}{urgent}')
    return hit('anaemia_microcytic', 'haematology', sev,
               f'{lead} with small red cells (microcytic anaemia pattern)', detail,
               ['hemoglobin', 'mcv', *extra], iron_keys)


def _red_cells(labs: Labs) -> list[Hit]:
    out: list[Hit] = []
    cut = 13.0 if labs.patient.sex == 'male' else 12.0
    hb_ok = labs.has('hemoglobin') and not labs.low('hemoglobin', below=cut)
    if hb_ok and labs.low('mcv', below=80):
        out.append(hit('microcytosis', 'haematology', 'low', 'Small red cells without anaemia',
                       f'{labs.show("mcv")} while haemoglobin is not low. This can be seen in early iron '
                       'deficiency or in thalassaemia trait (an inherited, usually harmless trait); ferritin helps '
                       'tell them apart.', ['mcv'], ['hemoglobin']))
    if hb_ok and labs.high('mcv', above=100):
        out.append(hit('macrocytosis', 'haematology', 'low', 'Large red cells without anaemia',
                       f'{labs.show("mcv")} while haemoglobin is not low. Large red cells can reflect low '
                       'vitamin B12 or folate, alcohol intake, liver or thyroid conditions, or some medicines.',
                       ['mcv'], ['hemoglobin']))
    if labs.high('hemoglobin', above=18.5 if labs.patient.sex == 'male' else 16.5):
        hb = labs.std('hemoglobin')
        sev: Severity = 'moderate' if hb is not None and hb > 18.5 else 'low'
        out.append(hit('hb_high', 'haematology', sev, 'Haemoglobin above the range',
                       f'{labs.show("hemoglobin")}. A raised haemoglobin can reflect dehydration at the time of '
                       'the test, smoking, living at altitude, lung or sleep-breathing problems, or less often a '
                       'bone-marrow condition; a repeat test is the usual first step.',
                       ['hemoglobin', *_present(labs, ('hematocrit', 'rbc'))]))
    return out


def _white_cells(labs: Labs) -> list[Hit]:
    out: list[Hit] = []
    wbc = labs.std('wbc')
    neut_high = labs.high('neutrophils_abs', above=7.5) or labs.high('neutrophils_pct')
    lymph_high = labs.high('lymphocytes_abs', above=4.0) or labs.high('lymphocytes_pct')
    if labs.high('wbc', above=11.0):
        sev: Severity = 'high' if wbc is not None and wbc > 30 else 'moderate' if wbc is not None and wbc > 15 else 'low'
        parts = [f'{labs.show("wbc")}.']
        markers = ['wbc']
        if neut_high:
            title = 'Raised white cell count with high neutrophils (neutrophilia)'
            parts.append('Neutrophils lead the rise; this is most often a response to a bacterial infection, '
                         'inflammation, physical stress or steroid medicines, and smoking can cause a mild rise.')
            markers += _present(labs, ('neutrophils_abs', 'neutrophils_pct'))
        elif lymph_high:
            title = 'Raised white cell count with high lymphocytes (lymphocytosis)'
            parts.append('Lymphocytes lead the rise; this is often seen during or after a viral infection.')
            markers += _present(labs, ('lymphocytes_abs', 'lymphocytes_pct'))
        else:
            title = 'Raised white cell count (leukocytosis)'
            parts.append('White cells rise with infection, inflammation, stress, smoking and some medicines.')
        parts.append('A repeat count once any infection has settled shows whether it persists.')
        out.append(hit('wbc_high', 'haematology', sev, title, ' '.join(parts), markers))
    else:
        for key_abs, key_pct, tag, title, why in (
                ('neutrophils_abs', 'neutrophils_pct', 'neutrophilia', 'High neutrophils (neutrophilia)',
                 'often a sign of bacterial infection, inflammation or stress'),
                ('lymphocytes_abs', 'lymphocytes_pct', 'lymphocytosis', 'High lymphocytes (lymphocytosis)',
                 'often seen during or after viral infections')):
            if labs.high(key_abs, above=7.5 if key_abs.startswith('neut') else 4.0):
                out.append(hit(tag, 'haematology', 'low', title,
                               f'{labs.show(key_abs)} with a total white count that is not raised; {why}.',
                               [key_abs], ['wbc']))
            elif labs.high(key_pct) and labs.has('wbc'):
                out.append(hit(tag, 'haematology', 'info', f'{labs.name(key_pct)} percentage above the range',
                               f'{labs.show(key_pct)}, but the total white count is not raised; the absolute '
                               'count matters more than the percentage.', [key_pct], ['wbc']))
    anc = labs.std('neutrophils_abs')
    if anc is not None and anc < 1.5 and labs.flag('neutrophils_abs') != 'normal':
        sev2: Severity = 'critical' if anc < 0.5 else 'high' if anc < 1.0 else 'moderate'
        detail = (f'{labs.show("neutrophils_abs")}. Neutrophils fight bacterial infection. Mildly low counts can '
                  'follow viral infections or medicines and are sometimes a normal variant; ')
        detail += ('a count below 0.5 ×10³/µL carries a high infection risk and needs prompt medical review.'
                   if anc < 0.5 else 'a repeat count is usually advised.')
        out.append(hit('neutropenia', 'haematology', sev2, 'Low neutrophil count (neutropenia)', detail,
                       ['neutrophils_abs', *_present(labs, ('wbc',))]))
    elif labs.low('wbc', below=4.0):
        out.append(hit('wbc_low', 'haematology', 'low', 'Low white cell count (leukopenia)',
                       f'{labs.show("wbc")}. A low white count can follow viral infections and some medicines, and '
                       'is sometimes a normal variant; a repeat count is usually advised.', ['wbc']))
    return out


def _platelets(labs: Labs) -> list[Hit]:
    plt = labs.std('platelets')
    if labs.low('platelets', below=150):
        if plt is not None and plt < 50 and labs.flag('platelets') != 'normal':
            sev: Severity = 'critical'
        elif plt is not None and plt < 100:
            sev = 'moderate'
        else:
            sev = 'low'
        detail = f'{labs.show("platelets")}. Platelets help blood clot. '
        if sev == 'critical':
            detail += 'A count below 50 ×10³/µL raises bleeding risk and needs prompt medical review.'
        else:
            detail += ('Mildly low counts are often due to viral infections, medicines, alcohol or clumping in the '
                       'sample tube (a repeat test checks this).')
        title = 'Very low platelet count' if sev == 'critical' else 'Low platelet count (thrombocytopenia)'
        return [hit('thrombocytopenia', 'haematology', sev, title, detail, ['platelets'])]
    if labs.high('platelets', above=450):
        sev = ('high' if plt is not None and plt > 1000 else 'moderate' if plt is not None and plt > 600 else 'low')
        return [hit('thrombocytosis', 'haematology', sev, 'Raised platelet count (thrombocytosis)',
                    f'{labs.show("platelets")}. Raised platelets are most often a reaction to infection, '
                    'inflammation, iron deficiency or recent bleeding; a rise that persists without a clear cause '
                    'is looked into further.', ['platelets'])]
    return []


def _iron(labs: Labs) -> list[Hit]:
    out: list[Hit] = []
    tsat = labs.ratio('tsat')
    anaemic = labs.low('hemoglobin', below=12.0)
    if labs.low('ferritin', below=15):
        detail = (f'{labs.show("ferritin")}. Ferritin reflects the body\'s iron stores, and a low value is the '
                  'most specific blood sign of iron deficiency. Common causes are heavy periods, a diet low in '
                  'iron, and blood loss from the gut, which doctors usually look into.')
        if tsat is not None and tsat < 20:
            detail += f' Transferrin saturation is {fmt_num(tsat)}%, also low.'
        out.append(hit('iron_low', 'iron', 'moderate' if anaemic else 'low', 'Low iron stores (low ferritin)',
                       detail, ['ferritin', *_present(labs, ('iron', 'tibc')), 'hemoglobin' if anaemic else '']))
    elif labs.high('ferritin', above=300):
        ferritin = labs.std('ferritin')
        detail = (f'{labs.show("ferritin")}. Ferritin rises with inflammation, infection, liver conditions, '
                  'alcohol and iron overload. ')
        sev: Severity = 'moderate' if ferritin is not None and ferritin > 1000 else 'low'
        if tsat is not None and tsat > 45:
            detail += (f'Transferrin saturation is also high ({fmt_num(tsat)}%), which makes iron overload '
                       '(for example haemochromatosis) worth checking.')
            sev = 'moderate'
        elif tsat is not None:
            detail += (f'Transferrin saturation ({fmt_num(tsat)}%) is not raised, which makes iron '
                       'overload less likely.')
        else:
            detail += 'Transferrin saturation (iron ÷ TIBC) helps tell these apart.'
        out.append(hit('ferritin_high', 'iron', sev, 'Raised ferritin', detail, ['ferritin'],
                       _present(labs, ('iron', 'tibc'))))
    elif labs.low('iron'):
        detail = (f'{labs.show("iron")}. Serum iron varies through the day and after meals and falls during '
                  'inflammation, so on its own it is a weak guide; ferritin reflects iron stores better.')
        if labs.has('ferritin'):
            detail += f' {labs.show("ferritin")} is not low.'
        out.append(hit('iron_serum_low', 'iron', 'low', 'Low serum iron', detail, ['iron'],
                       _present(labs, ('ferritin',))))
    return out


def _vitamins(labs: Labs) -> list[Hit]:
    out: list[Hit] = []
    vd = labs.std('vitamin_d_25oh')
    flag = labs.flag('vitamin_d_25oh')
    if vd is not None:
        row = labs.get('vitamin_d_25oh')
        printed_nmol = row is not None and norm_unit(row.unit) == 'nmol/l'
        other = f'{fmt_num(vd)} ng/mL' if printed_nmol else f'{fmt_num(vd * 2.496)} nmol/L'
        both = f'{labs.show("vitamin_d_25oh")}, about {other}'
        note = (" The lab's printed range includes this value; the guideline categories are stricter."
                if flag == 'normal' else '')
        if vd < 20 and flag != 'high':
            sev: Severity = cap_for_flag('moderate', flag)
            out.append(hit('vitd_deficient', 'vitamins', sev, 'Vitamin D deficiency',
                           f'{both}. Below 20 ng/mL (50 nmol/L) is generally called deficient; low vitamin D '
                           f'affects bone and muscle health and is easily treated.{note}', ['vitamin_d_25oh']))
        elif 20 <= vd < 30 and flag != 'high':
            out.append(hit('vitd_insufficient', 'vitamins', 'low', 'Vitamin D insufficiency',
                           f'{both}. Between 20 and 30 ng/mL (50–75 nmol/L) is often called insufficient: not '
                           f'deficient, but below the level many guidelines aim for.{note}', ['vitamin_d_25oh']))
        elif vd > 100 and flag != 'normal':
            sev = 'high' if vd > 150 else 'low'
            out.append(hit('vitd_high', 'vitamins', sev, 'Vitamin D above the usual range',
                           f'{both}. High levels almost always come from supplements; above 150 ng/mL '
                           '(375 nmol/L) they can raise calcium and become harmful.', ['vitamin_d_25oh']))
    elif flag == 'low':
        out.append(hit('vitd_deficient', 'vitamins', 'low', 'Vitamin D below the range',
                       f'{labs.show("vitamin_d_25oh")}.', ['vitamin_d_25oh']))
    b12 = labs.std('vitamin_b12')
    b12_flag = labs.flag('vitamin_b12')
    if labs.low('vitamin_b12', below=200) or (b12 is not None and b12 < 200 and b12_flag != 'normal'):
        out.append(hit('b12_low', 'vitamins', 'moderate', 'Low vitamin B12',
                       f'{labs.show("vitamin_b12")}. Vitamin B12 is needed for red cells and nerves; low levels '
                       'are common with vegan diets, stomach or gut conditions, and long-term metformin or '
                       'acid-reducing medicines.', ['vitamin_b12']))
    elif b12 is not None and 200 <= b12 < 300 and b12_flag != 'high':
        out.append(hit('b12_borderline', 'vitamins', 'low', 'Borderline vitamin B12',
                       f'{labs.show("vitamin_b12")}. Values of 200–300 pg/mL are borderline; a methylmalonic '
                       'acid or homocysteine test can show whether this is a true deficiency.'
                       + (' The lab marks this within its printed range.' if b12_flag == 'normal' else ''),
                       ['vitamin_b12']))
    folate = labs.std('folate')
    if labs.low('folate', below=3) or (folate is not None and folate < 3 and labs.flag('folate') != 'normal'):
        out.append(hit('folate_low', 'vitamins', 'moderate', 'Low folate',
                       f'{labs.show("folate")}. Folate comes mainly from leafy greens, legumes and fortified '
                       'foods; low levels also occur with heavy alcohol use and some medicines.', ['folate']))
    return out


def _inflammation(labs: Labs) -> list[Hit]:
    if not labs.high('crp', above=10):
        return []
    crp = labs.std('crp')
    sev: Severity = 'high' if crp is not None and crp > 100 else 'moderate' if crp is not None and crp > 10 else 'low'
    detail = f'{labs.show("crp")}. CRP rises within hours of infection or inflammation. '
    if sev == 'high':
        detail += 'Levels above 100 mg/L usually reflect a significant infection or major inflammation.'
    elif sev == 'low':
        detail += 'A small rise can come from a minor infection, injury, smoking or excess weight.'
    else:
        detail += 'A repeat test after recovery shows whether it settles.'
    return [hit('crp_high', 'inflammation', sev, 'Raised CRP (inflammation marker)', detail.strip(), ['crp'])]


def blood_rules(labs: Labs) -> list[Hit]:
    """Findings for blood count, iron, vitamins and inflammation."""
    out: list[Hit] = []
    for rule in (_anaemia, _red_cells, _white_cells, _platelets, _iron, _vitamins, _inflammation):
        out.extend(rule(labs))
    return out
