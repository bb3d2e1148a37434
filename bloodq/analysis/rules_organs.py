"""Rules for liver, kidney, thyroid and electrolytes."""

from __future__ import annotations

from bloodq.analysis.labs import Hit, Labs, cap_for_flag, fmt_num
from bloodq.analysis.model import Severity
from bloodq.analysis.rules_blood import hit

_KDIGO = ((90, 'G1', 'normal or high'), (60, 'G2', 'mildly decreased'), (45, 'G3a', 'mildly to moderately decreased'),
          (30, 'G3b', 'moderately to severely decreased'), (15, 'G4', 'severely decreased'), (0, 'G5', 'kidney failure'))
_KDIGO_SEVERITY: dict[str, Severity] = {'G1': 'info', 'G2': 'info', 'G3a': 'moderate', 'G3b': 'high', 'G4': 'high',
                                        'G5': 'critical'}


def _times_uln(labs: Labs, keys: list[str]) -> float | None:
    ratios = [r for r in (labs.beyond(k) for k in keys) if r is not None]
    return max(ratios) if ratios else None


def liver(labs: Labs) -> list[Hit]:
    """Hepatocellular and cholestatic patterns, AST/ALT ratio, isolated ALP, GGT, bilirubin, albumin."""
    out: list[Hit] = []
    raised = [k for k in ('alt', 'ast') if labs.high(k)]
    bili_high = labs.high('bilirubin_total', above=1.2)
    if raised:
        uln = _times_uln(labs, raised)
        sev: Severity = 'high' if uln is not None and uln > 10 else 'moderate' if uln is not None and uln >= 3 else 'low'
        shown = ' and '.join(labs.show(k) for k in raised)
        size = f', about {fmt_num(uln)} times the upper limit' if uln is not None else ''
        detail = (f'{shown}{size}. Raised ALT/AST mean liver cells are irritated; common causes include fatty '
                  'liver, alcohol, medicines or supplements, and viral hepatitis.')
        if raised == ['ast']:
            detail += ' AST also comes from muscle, so hard exercise in the days before the test can raise it.'
        markers = list(raised)
        others = [k for k in ('alt', 'ast') if labs.has(k) and k not in raised]
        if bili_high:
            detail += f' {labs.show("bilirubin_total")} is raised too.'
            markers.append('bilirubin_total')
            sev = 'moderate' if sev == 'low' else sev
        out.append(hit('liver_hepatocellular', 'liver', sev, 'Raised liver enzymes (liver-cell pattern)', detail,
                       markers, others))
        ratio = labs.ratio('ast_alt_ratio')
        if 'ast' in raised and ratio is not None and ratio > 2:
            out.append(hit('ast_alt_ratio', 'liver', 'moderate', 'AST more than twice ALT',
                           f'The AST/ALT ratio is {fmt_num(ratio)} with AST raised. This pattern is most '
                           'often linked to alcohol-related liver injury; muscle injury and advanced liver '
                           'scarring are other causes.', ['ast', 'alt']))
    alp_high = labs.high('alp', above=130)
    ggt_high = labs.high('ggt', above=60)
    if alp_high and (ggt_high or bili_high):
        bili = labs.std('bilirubin_total')
        partners = [k for k, up in (('ggt', ggt_high), ('bilirubin_total', bili_high)) if up]
        out.append(hit('cholestatic', 'liver', 'high' if bili is not None and bili > 3 else 'moderate',
                       'Raised ALP with raised ' + ' and '.join(labs.name(k) for k in partners)
                       + ' (bile-flow pattern)',
                       f'{labs.show("alp")}; ' + '; '.join(labs.show(k) for k in partners)
                       + '. Together these suggest bile flow from the liver may be slowed (cholestasis), for '
                       'example by gallstones, medicines or liver conditions; an ultrasound is often the next step.',
                       ['alp', *partners]))
    elif alp_high and not raised and any(labs.has(k) for k in ('alt', 'ast')):
        detail = (f'{labs.show("alp")} while AST/ALT' + (' and bilirubin' if labs.has('bilirubin_total') else '')
                  + ' are not raised. ALP comes from the bile ducts and from bone, so the source may be bone '
                  '(growth, a healing fracture, low vitamin D) or the bile ducts.')
        if labs.has('ggt'):
            detail += f' {labs.show("ggt")} is not raised, which points towards a bone source.'
        else:
            detail += ' A GGT test (or ALP isoenzymes) can show which.'
        if labs.low('vitamin_d_25oh', below=20):
            detail += ' The low vitamin D on this report may be relevant.'
        if labs.patient.age is not None and labs.patient.age < 20:
            detail += ' ALP is normally higher in teenagers while bones are growing.'
        uln = labs.beyond('alp')
        out.append(hit('alp_isolated', 'liver', 'moderate' if uln is not None and uln > 2 else 'low',
                       'Raised ALP without raised liver enzymes or bilirubin', detail,
                       ['alp'], [k for k in ('ast', 'alt', 'bilirubin_total', 'ggt') if labs.has(k)]))
    elif alp_high:
        out.append(hit('alp_high', 'liver', 'low', 'Raised ALP',
                       f'{labs.show("alp")}. ALP comes from the bile ducts and from bone; a GGT test helps show '
                       'which.', ['alp']))
    if ggt_high and not alp_high:
        out.append(hit('ggt_high', 'liver', 'low', 'Raised GGT',
                       f'{labs.show("ggt")}. GGT is sensitive to alcohol, some medicines and fatty liver; on its own '
                       'it is a non-specific finding.', ['ggt']))
    if bili_high and not raised and not alp_high:
        bili = labs.std('bilirubin_total')
        out.append(hit('bilirubin_isolated', 'liver', 'moderate' if bili is not None and bili > 3 else 'low',
                       'Raised bilirubin with normal liver enzymes',
                       f'{labs.show("bilirubin_total")}. A mild, isolated rise is often due to Gilbert syndrome (a '
                       'common, harmless condition) or to fasting and illness; faster breakdown of red cells is '
                       'another cause. Splitting bilirubin into direct and indirect parts helps tell them apart.',
                       ['bilirubin_total']))
    if labs.low('albumin', below=3.5):
        out.append(hit('albumin_low', 'liver', 'low', 'Low albumin',
                       f'{labs.show("albumin")}. Albumin is a protein made by the liver; it falls with inflammation, '
                       'liver or kidney conditions, and poor nutrition.', ['albumin']))
    return out


def kidney(labs: Labs) -> list[Hit]:
    """KDIGO eGFR category (printed eGFR first, else calculated), creatinine and urea."""
    out: list[Hit] = []
    printed = labs.std('egfr')
    calc = labs.derived.get('egfr_calc')
    egfr = printed if printed is not None else calc.value if calc is not None else None
    markers: list[str] = []
    if egfr is not None:
        grade = next(g for g in _KDIGO if egfr >= g[0])
        source = (labs.show('egfr') if printed is not None
                  else f'eGFR calculated with CKD-EPI 2021 from {labs.show("creatinine")}, age and sex: '
                  f'{fmt_num(egfr)} mL/min/1.73m²')
        sev = _KDIGO_SEVERITY[grade[1]]
        # a calculated eGFR inherits the creatinine's flag: a normal creatinine caps the category's weight
        flag = labs.flag('egfr') if printed is not None else labs.flag('creatinine')
        if flag == 'low' and sev == 'info':
            sev = 'low'
        sev = cap_for_flag(sev, flag)
        if grade[1] != 'G1':
            detail = f'{source}. This is KDIGO category {grade[1]} ({grade[2]}). '
            if grade[1] == 'G2':
                detail += ('On its own this is common, especially with age, and is not chronic kidney disease '
                           'unless there are other signs of kidney damage such as protein in the urine.')
            else:
                detail += ('Chronic kidney disease is only diagnosed when eGFR stays reduced for more than 3 months, '
                           'so a repeat test and a urine albumin-creatinine ratio are the usual next steps.')
            if grade[1] == 'G5':
                detail += ' An eGFR below 15 needs prompt specialist review.'
            if printed is None and flag == 'normal' and grade[1] != 'G2':
                detail += (" Creatinine itself is within the lab's range; the calculated eGFR also takes age and "
                           'sex into account.')
            markers = ['egfr' if printed is not None else 'creatinine', *(['creatinine'] if labs.has('creatinine') else [])]
            if printed is not None and labs.high('creatinine'):
                detail += f' {labs.show("creatinine")} is raised.'
            out.append(hit('egfr_reduced', 'kidney', sev, f'Kidney filtration (eGFR) category {grade[1]}', detail,
                           markers))
    if labs.high('creatinine', above=1.3) and 'creatinine' not in markers:
        tail = ('' if egfr is not None else ' An eGFR needs age and sex, which this report does not show.'
                if labs.patient.age is None or labs.patient.sex is None else '')
        out.append(hit('creatinine_high', 'kidney', 'low', 'Raised creatinine',
                       f'{labs.show("creatinine")}. Creatinine reflects kidney filtration but also muscle mass, '
                       f'hydration and recent meat intake; a repeat test shows whether it persists.{tail}',
                       ['creatinine'], ['egfr'] if labs.has('egfr') else []))
    for key in ('urea', 'bun'):
        if labs.high(key, above=45 if key == 'urea' else 20):
            bun_ratio = labs.ratio('bun_creatinine_ratio')
            detail = (f'{labs.show(key)}. Urea rises with dehydration, a high-protein diet, some medicines, bleeding '
                      'in the gut or reduced kidney function.')
            if bun_ratio is not None and bun_ratio > 20 and not labs.high('creatinine'):
                detail += (f' The BUN/creatinine ratio is {fmt_num(bun_ratio)} with creatinine not raised, a pattern '
                           'often seen with dehydration.')
            out.append(hit('urea_high', 'kidney', 'low', f'Raised {labs.name(key)}', detail, [key]))
            break
    return out


def thyroid(labs: Labs) -> list[Hit]:
    """TSH read together with free T4 (or total T4): overt and subclinical patterns."""
    t4 = 'free_t4' if labs.has('free_t4') else 't4' if labs.has('t4') else ''
    tsh = labs.std('tsh')
    tsh_high, tsh_low = labs.high('tsh', above=4.5), labs.low('tsh', below=0.4)
    t4_high, t4_low = (labs.high(t4), labs.low(t4)) if t4 else (False, False)
    meds = ' If you take thyroid medicine, these results mainly reflect the dose.'
    if not labs.has('tsh'):
        if t4_high or t4_low:
            return [hit('thyroid_other', 'thyroid', 'low', f'{labs.name(t4)} {"above" if t4_high else "below"} the range',
                        f'{labs.show(t4)}. TSH is not on this report; thyroid results are read together with TSH.',
                        [t4])]
        return []
    both = [k for k in ('tsh', t4) if k]
    shown = '; '.join(labs.show(k) for k in both)
    if (tsh_high and t4_high) or (tsh_low and t4_low):
        return [hit('thyroid_other', 'thyroid', 'moderate', 'TSH and thyroxine outside the range in the same direction',
                    f'{shown}. This combination is uncommon: it can come from medicines, recent illness or test '
                    'interference, and rarely from the pituitary gland. It is usually repeated and reviewed by a '
                    f'doctor.{meds}', both)]
    if tsh_high and t4_low:
        return [hit('hypothyroid', 'thyroid', 'moderate', 'Underactive thyroid pattern (high TSH, low T4)',
                    f'{shown}. A high TSH with a low thyroxine is the typical pattern of an underactive thyroid '
                    f'(hypothyroidism), which can cause tiredness, feeling cold and weight gain.{meds}', both)]
    if tsh_low and t4_high:
        return [hit('hyperthyroid', 'thyroid', 'high', 'Overactive thyroid pattern (low TSH, high T4)',
                    f'{shown}. A low TSH with a high thyroxine is the typical pattern of an overactive thyroid '
                    f'(hyperthyroidism), which can cause palpitations, weight loss and anxiety.{meds}', both)]
    if tsh_high:
        sev: Severity = 'moderate' if tsh is not None and tsh > 10 else 'low'
        if t4:
            detail = (f'{shown}. A raised TSH with normal thyroxine is called subclinical hypothyroidism: the '
                      'thyroid is working harder to keep up. It is common, often repeated in 6–8 weeks, and '
                      'thyroid antibodies help judge whether it will progress.')
            title = 'Raised TSH with normal T4 (subclinical hypothyroidism)'
        else:
            detail = f'{shown}. A raised TSH suggests an underactive thyroid; free T4 is needed to interpret it.'
            title = 'Raised TSH'
        return [hit('hypothyroid', 'thyroid', sev, title, detail + meds, both)]
    if tsh_low:
        sev = 'moderate' if tsh is not None and tsh < 0.1 else 'low'
        if t4:
            t3 = ' T3 is raised, which can be an early overactive pattern.' if labs.high('t3') else ''
            detail = (f'{shown}. A low TSH with normal thyroxine is called subclinical hyperthyroidism; it can also '
                      f'follow recent illness or some medicines, and is usually repeated.{t3}')
            title = 'Low TSH with normal T4 (subclinical hyperthyroidism)'
        else:
            detail = f'{shown}. A low TSH suggests an overactive thyroid; free T4 is needed to interpret it.'
            title = 'Low TSH'
        return [hit('hyperthyroid', 'thyroid', sev, title, detail + meds, both,
                    ['t3'] if labs.has('t3') and not labs.high('t3') else [])]
    if t4_high or t4_low:
        return [hit('thyroid_other', 'thyroid', 'low' if t4_high else 'moderate',
                    f'{labs.name(t4)} {"above" if t4_high else "below"} the range with normal TSH',
                    f'{shown}. When TSH is normal, an abnormal thyroxine can come from the timing of thyroid medicine, '
                    'recent illness, some medicines or test interference; less often from the pituitary gland. '
                    'Your doctor may repeat it.', both)]
    return []


def electrolytes(labs: Labs) -> list[Hit]:
    """Potassium, sodium and calcium (albumin-corrected when available)."""
    out: list[Hit] = []
    k = labs.std('potassium')
    if k is not None and labs.flag('potassium') != 'normal' and (k > 6.0 or k < 2.5):
        out.append(hit('potassium', 'electrolytes', 'critical', f'Potassium {"very high" if k > 6 else "very low"}',
                       f'{labs.show("potassium")}. Potassium outside 2.5–6.0 mmol/L can affect the heart rhythm '
                       'and needs prompt medical review (a damaged sample can read falsely high, which a repeat '
                       'test shows).', ['potassium']))
    elif labs.high('potassium', above=5.0):
        out.append(hit('potassium', 'electrolytes', 'moderate', 'Raised potassium',
                       f'{labs.show("potassium")}. A raised potassium can come from a damaged (haemolysed) sample, '
                       'kidney problems or medicines such as ACE inhibitors; it is usually re-checked promptly.',
                       ['potassium']))
    elif labs.low('potassium', below=3.5):
        out.append(hit('potassium', 'electrolytes', 'high' if k is not None and k < 3.0 else 'moderate',
                       'Low potassium', f'{labs.show("potassium")}. Low potassium is often caused by diuretics '
                       '("water tablets"), vomiting or diarrhoea; it is usually re-checked and replaced.',
                       ['potassium']))
    na = labs.std('sodium')
    if na is not None and labs.flag('sodium') != 'normal' and (na < 125 or na > 155):
        out.append(hit('sodium', 'electrolytes', 'critical', f'Sodium {"very low" if na < 125 else "very high"}',
                       f'{labs.show("sodium")}. Sodium this far out of range can cause confusion or seizures and '
                       'needs prompt medical review.', ['sodium']))
    elif labs.low('sodium', below=135) or labs.high('sodium', above=145):
        low = labs.low('sodium', below=135)
        sev: Severity = 'moderate' if na is not None and (na < 130 or na > 150) else 'low'
        why = ('medicines (such as diuretics or some antidepressants), drinking a lot of water, or hormone and '
               'kidney conditions' if low else 'not drinking enough fluid or losing fluid')
        out.append(hit('sodium', 'electrolytes', sev, f'{"Low" if low else "Raised"} sodium',
                       f'{labs.show("sodium")}. This is most often related to {why}.', ['sodium']))
    corrected = labs.derived.get('calcium_corrected')
    ca = labs.std('calcium')
    if ca is not None and labs.flag('calcium') != 'normal' and (ca < 6.0 or ca > 13.0):
        out.append(hit('calcium', 'electrolytes', 'critical', 'Calcium far out of range',
                       f'{labs.show("calcium")}. Calcium this far out of range needs prompt medical review.',
                       ['calcium']))
    elif labs.high('calcium', above=10.5):
        out.append(hit('calcium', 'electrolytes', 'moderate', 'Raised calcium',
                       f'{labs.show("calcium")}. A raised calcium is most often due to an overactive parathyroid '
                       'gland; it is usually re-checked together with parathyroid hormone (PTH).', ['calcium']))
    elif labs.low('calcium', below=8.5):
        detail = f'{labs.show("calcium")}.'
        if corrected is not None:
            detail += (f' Corrected for the low albumin it is {fmt_num(corrected.value)} {corrected.unit}, which '
                       'shows how much of the low reading is due to low albumin.')
        elif labs.has('albumin') and not labs.low('albumin', below=3.5):
            detail += f' {labs.show("albumin")} is not low, so low albumin does not explain it.'
        detail += ' Low vitamin D and kidney conditions are common causes of low calcium; it is usually re-checked.'
        out.append(hit('calcium', 'electrolytes', 'low', 'Low calcium', detail, ['calcium'],
                       ['albumin'] if corrected is not None else []))
    return out
