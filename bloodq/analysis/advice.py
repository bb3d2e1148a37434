"""Nutrition, exercise and follow-up advice, selected by the findings' tags.

The advice stands in for the nutritionist and exercise physiologist of the original system.
Each line is tied to a finding tag, so nothing is suggested that the results do not motivate;
a report with nothing out of range gets maintenance advice only.
"""

from __future__ import annotations

from bloodq.analysis.labs import Hit, severity_rank

_SECTIONS = ('nutrition', 'exercise', 'follow_up')
_MAX_PER_SECTION = 10
_CARDIO = 'Aim for at least 150 minutes a week of moderate aerobic activity (brisk walking, cycling, swimming).'
_STRENGTH = 'Add muscle-strengthening exercise on 2 days a week; muscles use glucose and improve insulin sensitivity.'
_IRON_FOOD = ('Eat iron-rich foods: red meat, poultry, fish, lentils, beans, tofu and dark leafy greens; '
              'pair plant sources with vitamin C (citrus, peppers) to absorb more.')
_TEA = 'Keep tea and coffee away from iron-rich meals: they reduce iron absorption.'
_ALCOHOL = 'Cut down on alcohol or avoid it until the liver tests are repeated.'
_SAT_FAT = ('Reduce saturated fat (fatty meat, butter, cheese, pastries) and avoid trans fats; use olive or '
            'rapeseed oil instead.')
_FIBRE = 'Eat more soluble fibre (oats, barley, beans, lentils), nuts and vegetables.'
_LIPID_REPEAT = 'Repeat the lipid profile (fasting) after about 3 months of changes.'
_REST = 'Rest while you are unwell and return to exercise gradually.'
_CBC_REPEAT = 'Repeat the blood count once any infection or illness has settled.'
_IRON_FOLLOW = ('Ask your doctor about the cause of the low iron (for example heavy periods or blood loss from the '
                'gut) and whether iron tablets are needed; do not start them without advice.')
_LIVER_REPEAT = ('Repeat the liver tests in a few weeks; tell your doctor about all medicines, supplements and '
                 'herbal remedies you take.')

#: tag -> (nutrition, exercise, follow_up)
_ADVICE: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    'anaemia_microcytic': ((_IRON_FOOD, _TEA),
                           (('Keep exercise moderate until the anaemia is treated, and stop if you feel '
                            'breathless, dizzy or have chest pain.'),),
                           (_IRON_FOLLOW,)),
    'iron_low': ((_IRON_FOOD, _TEA), (), (_IRON_FOLLOW,)),
    'anaemia_macrocytic': ((('Include vitamin B12 sources (meat, fish, eggs, dairy, or fortified foods if vegan) and '
                            'folate sources (leafy greens, legumes, fortified cereals).'),),
                           ('Keep exercise moderate until the anaemia is treated.',),
                           ('Ask your doctor about vitamin B12 and folate levels if not already measured.',)),
    'anaemia': ((), ('Keep exercise moderate until the cause of the anaemia is known.',),
                ('Ask your doctor to look into the cause of the anaemia.',)),
    'b12_low': ((('Include vitamin B12 sources: meat, fish, eggs and dairy, or B12-fortified foods and a '
                 'supplement if you eat a vegan diet.'),), (),
                ('Discuss B12 replacement with your doctor; injections are used when absorption is the problem.',)),
    'b12_borderline': (('Include vitamin B12 sources: meat, fish, eggs, dairy or fortified foods.',), (),
                       ('Ask whether a methylmalonic acid or homocysteine test is worthwhile.',)),
    'folate_low': (('Eat folate-rich foods daily: leafy greens, beans, lentils, citrus and fortified cereals.',), (),
                   ('Discuss folate replacement with your doctor.',)),
    'prediabetes': ((('Cut down on sugary drinks, sweets and refined carbohydrates (white bread, white rice); '
                     'choose whole grains, vegetables, legumes and high-fibre foods.'),),
                    (_CARDIO, _STRENGTH, 'Break up long periods of sitting with a few minutes of movement.'),
                    ('Repeat HbA1c or fasting glucose in about 12 months, or sooner if your doctor advises.',)),
    'diabetes_range': ((('Cut down on sugary drinks, sweets and refined carbohydrates; build meals around '
                        'vegetables, lean protein, legumes and whole grains.'),),
                       (_CARDIO, _STRENGTH),
                       ('See your doctor soon to confirm the result with a repeat test and plan treatment.',)),
    'glucose_high': (('Limit sugary drinks and refined carbohydrates.',), (_CARDIO,),
                     ('Ask your doctor whether an HbA1c or a fasting glucose test is needed.',)),
    'hypoglycaemia': ((), (), (('Discuss the low glucose with your doctor promptly, especially if you take '
                               'diabetes medicines or had symptoms.'),)),
    'ldl_high': ((_SAT_FAT, _FIBRE), (_CARDIO,),
                 (('Ask your doctor for a cardiovascular risk assessment, which decides whether a statin or other '
                  'treatment is worthwhile.'), _LIPID_REPEAT)),
    'tc_high': ((_SAT_FAT, _FIBRE), (_CARDIO,), (_LIPID_REPEAT,)),
    'tg_high': (('Cut down on sugar, refined carbohydrates and alcohol, which raise triglycerides most.',
                 'Eat oily fish (salmon, mackerel, sardines) twice a week.'), (_CARDIO,), (_LIPID_REPEAT,)),
    'hdl_low': (('Replace refined carbohydrates with unsaturated fats (olive oil, nuts, avocado, oily fish).',),
                (_CARDIO, 'If you smoke, stopping raises HDL.'), ()),
    'ratio_high': ((), (_CARDIO,), ()),
    'liver_hepatocellular': ((_ALCOHOL, 'If you carry extra weight, gradual weight loss reduces liver fat.'),
                             (_CARDIO,), (_LIVER_REPEAT,)),
    'ast_alt_ratio': ((_ALCOHOL,), (), ('Discuss alcohol intake openly with your doctor.',)),
    'ggt_high': ((_ALCOHOL,), (), (_LIVER_REPEAT,)),
    'cholestatic': ((), (), (('See your doctor about the bile-flow pattern; an abdominal ultrasound is often '
                             'arranged.'),)),
    'alp_isolated': ((), (), ('Ask whether GGT or ALP isoenzymes are needed to find the source of the ALP.',)),
    'alp_high': ((), (), ('Ask whether a GGT test is needed to find the source of the ALP.',)),
    'bilirubin_isolated': ((), (), ('Ask whether a split (direct/indirect) bilirubin is needed.',)),
    'albumin_low': (('Make sure you eat enough protein (fish, eggs, dairy, legumes, lean meat).',), (),
                    ('Discuss the low albumin with your doctor.',)),
    'egfr_reduced': (('Do not overdo salt, and avoid high-dose protein supplements unless advised.',
                      'Stay well hydrated.'), (),
                     ('Repeat creatinine/eGFR and a urine albumin-creatinine ratio within 3 months.',
                      ('Avoid regular anti-inflammatory painkillers (ibuprofen, naproxen) unless your doctor '
                      'agrees.'))),
    'creatinine_high': (('Stay well hydrated.',), (), ('Repeat creatinine (with eGFR) to see whether it persists.',)),
    'urea_high': (('Stay well hydrated.',), (), ('Repeat urea with creatinine.',)),
    'hypothyroid': ((), (), ('Repeat TSH with free T4 in 6–8 weeks; thyroid antibodies help judge the cause.',)),
    'hyperthyroid': ((), ('Avoid strenuous exercise until assessed if you notice palpitations.',),
                     ('See your doctor about the thyroid results; repeat TSH, free T4 and T3.',)),
    'thyroid_other': ((), (), ('Ask your doctor whether the thyroid tests should be repeated.',)),
    'vitd_deficient': ((('Include vitamin D sources (oily fish, egg yolks, fortified foods); diet alone rarely '
                        'corrects a deficiency, so a supplement is usually needed.'),),
                       (('Spend some time outdoors in daylight, and include weight-bearing exercise for bone '
                        'health.'),),
                       ('Ask your doctor about a vitamin D supplement dose and a recheck after about 3 months.',)),
    'vitd_insufficient': (('Include vitamin D sources: oily fish, egg yolks and fortified foods.',),
                          ('Spend some time outdoors in daylight.',),
                          ('Ask whether a low-dose vitamin D supplement suits you, especially in winter.',)),
    'vitd_high': ((), (), ('Stop vitamin D supplements until you have discussed this level with your doctor.',)),
    'ferritin_high': (('Do not take iron supplements unless a doctor advises it, and limit alcohol.',), (),
                      ('Ask your doctor about the raised ferritin; transferrin saturation helps show the cause.',)),
    'iron_serum_low': ((), (), ('Ferritin is a better guide to iron stores; ask whether it should be measured.',)),
    'wbc_high': ((), (_REST,), (_CBC_REPEAT,)),
    'neutrophilia': ((), (), (_CBC_REPEAT,)),
    'lymphocytosis': ((), (), (_CBC_REPEAT,)),
    'wbc_low': ((), (), ('Repeat the blood count; tell your doctor about medicines you take.',)),
    'neutropenia': ((), (), (('Discuss the low neutrophil count with your doctor; seek care quickly if you '
                             'develop a fever.'),)),
    'thrombocytopenia': ((), ('Avoid contact sports while platelets are low.',),
                         ('Repeat the platelet count; report unusual bruising or bleeding.',)),
    'thrombocytosis': ((), (), ('Repeat the platelet count after any infection or inflammation has settled.',)),
    'hb_high': (('Drink enough fluid before a repeat test.',), (), ('Repeat the blood count.',)),
    'microcytosis': ((), (), ('Ask whether ferritin should be checked.',)),
    'macrocytosis': ((), (), ('Ask whether vitamin B12 and folate should be checked.',)),
    'crp_high': ((), (_REST,), ('Repeat CRP after recovery to check that it settles.',)),
    'uric_acid_high': ((('Limit alcohol (especially beer), sugary drinks, red and organ meats and shellfish; '
                        'drink plenty of water.'),), (), ('Repeat uric acid; discuss it if you have joint pain.',)),
    'potassium': ((), (), ('Have potassium re-checked promptly and review your medicines with your doctor.',)),
    'sodium': ((), (), ('Have sodium re-checked and review your medicines with your doctor.',)),
    'calcium': ((), (), ('Have calcium re-checked (with albumin, and PTH if raised).',)),
}

_MAINTAIN = {
    'nutrition': [('Keep a varied diet rich in vegetables, fruit, whole grains, legumes and fish, with little '
                  'added sugar, salt and processed food.')],
    'exercise': [_CARDIO + ' Add muscle-strengthening activity on 2 days a week.'],
    'follow_up': ['Nothing on this report is out of range; repeat routine blood tests as your doctor advises.'],
}


def recommendations(hits: list[Hit], n_results: int, abnormal: list[str] | None = None) -> dict[str, list[str]]:
    """Advice per section for ``hits`` (most severe first); maintenance advice when nothing needs acting on.

    ``abnormal`` names the results outside their printed range, so that maintenance advice never
    claims "nothing is out of range" when something is.
    """
    if n_results == 0:
        return {'nutrition': [], 'exercise': [],
                'follow_up': ['Upload a blood-test report with a text layer to get an analysis.']}
    acted = [h for h in sorted(hits, key=lambda h: severity_rank(h.finding.severity))
             if h.finding.severity != 'info']
    if not acted:
        maintain = {k: list(v) for k, v in _MAINTAIN.items()}
        if abnormal:
            names = ', '.join(abnormal)
            maintain['follow_up'] = [(f'Mention the results outside the printed range ({names}) at your next '
                                     'check-up; on their own they do not point to a specific problem.')]
        return maintain
    out: dict[str, list[str]] = {k: [] for k in _SECTIONS}
    critical = [h.finding.title for h in acted if h.finding.severity == 'critical']
    if critical:
        out['follow_up'].append('Contact your doctor today about: ' + '; '.join(critical)
                                + '. Results this far out of range need prompt review.')
    generic: list[str] = []
    for h in acted:
        advice = _ADVICE.get(h.tag)
        if advice is None:
            generic.append(h.finding.title)
            continue
        for section, lines in zip(_SECTIONS, advice, strict=True):
            out[section].extend(lines)
    if generic:
        out['follow_up'].append('Ask your doctor about: ' + '; '.join(generic) + '.')
    if not out['nutrition']:
        out['nutrition'].append('No specific diet change follows from these results; keep a varied diet rich in '
                                'vegetables, fruit, whole grains and legumes.')
    if critical:
        out['exercise'].insert(0, 'Hold off strenuous exercise until the urgent result has been reviewed.')
    if not out['exercise']:
        out['exercise'].append('Nothing in these results calls for a change in exercise. ' + _CARDIO)
    # most severe first, so the cap only ever drops advice for the mildest findings
    return {k: list(dict.fromkeys(v))[:_MAX_PER_SECTION] for k, v in out.items()}
