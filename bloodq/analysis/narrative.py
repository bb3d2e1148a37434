"""The words: query topics, the answer to the user's question, and the terminal-friendly analysis."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bloodq.analysis.labs import SPECIALTY_TITLES, Hit, Labs, fmt_num, range_text, severity_rank, value_text
from bloodq.analysis.model import DerivedValue, Finding, LabResult

WIDTH = 100
DISCLAIMER = (
    'This analysis is generated automatically from the numbers printed on your lab report. It is for '
    'information only: it is not a diagnosis or medical advice and does not replace a consultation with a '
    'qualified clinician, who can interpret the results together with your history, symptoms and medicines. '
    'Reference ranges differ between laboratories. If you feel unwell, or a result is marked as needing prompt '
    'review, contact your doctor or emergency services.'
)
NO_RESULTS = (
    'No lab results were found in this document, so there is nothing to analyse. Check that the file is a '
    'blood-test report with selectable text (not a scan or photo) and try again.'
)

_LABELS = {
    'hemoglobin': 'haemoglobin', 'mcv': 'MCV (red-cell size)', 'ferritin': 'ferritin', 'vitamin_b12': 'vitamin B12',
    'folate': 'folate', 'tsh': 'TSH', 'free_t4': 'free T4', 'cholesterol_total': 'total cholesterol', 'ldl': 'LDL',
    'hdl': 'HDL', 'triglycerides': 'triglycerides', 'hba1c': 'HbA1c', 'glucose_fasting': 'fasting glucose',
    'alt': 'ALT', 'ast': 'AST', 'alp': 'ALP', 'ggt': 'GGT', 'bilirubin_total': 'bilirubin', 'creatinine': 'creatinine',
    'egfr': 'eGFR', 'urea': 'urea', 'vitamin_d_25oh': 'vitamin D', 'wbc': 'white cell count', 'platelets': 'platelets',
    'crp': 'CRP', 'iron': 'iron', 'sodium': 'sodium', 'potassium': 'potassium', 'calcium': 'calcium',
}

_STAND_INS = {'egfr': 'egfr_calc', 'ldl': 'ldl_calc'}


@dataclass(frozen=True, slots=True)
class Topic:
    """What a query can be about: trigger words, the results to lead with, the specialties to quote."""

    name: str
    label: str
    words: tuple[str, ...]
    keys: tuple[str, ...]
    core: tuple[str, ...]  #: keys worth saying are missing
    specialties: tuple[str, ...]
    derived: tuple[str, ...] = ()


TOPICS: tuple[Topic, ...] = (
    Topic('lipids', 'Cholesterol (lipid) results', ('cholesterol', 'lipid', 'heart', 'cardi', 'ldl', 'hdl',
                                                    'triglycer', 'statin', 'stroke', 'arter'),
          ('cholesterol_total', 'ldl', 'hdl', 'triglycerides', 'non_hdl', 'vldl', 'chol_hdl_ratio', 'ldl_hdl_ratio'),
          ('cholesterol_total', 'ldl', 'hdl', 'triglycerides'), ('lipids',),
          ('non_hdl_calc', 'ldl_calc', 'tc_hdl_ratio', 'ldl_hdl_ratio')),
    Topic('fatigue', 'Results that can explain tiredness', ('tired', 'fatigue', 'energy', 'weak', 'exhaust',
                                                            'letharg', 'sleepy', 'breathless', 'dizz'),
          ('hemoglobin', 'hematocrit', 'mcv', 'ferritin', 'iron', 'tibc', 'vitamin_b12', 'folate', 'tsh', 'free_t4',
           'vitamin_d_25oh'),
          ('hemoglobin', 'ferritin', 'vitamin_b12', 'folate', 'tsh'),
          ('haematology', 'iron', 'vitamins', 'thyroid'), ('tsat',)),
    Topic('diabetes', 'Blood sugar results', ('sugar', 'diabet', 'glucose', 'hba1c', 'a1c', 'insulin', 'glyc'),
          ('glucose_fasting', 'glucose', 'glucose_random', 'glucose_pp', 'hba1c', 'eag'), ('hba1c', 'glucose_fasting'),
          ('metabolic',)),
    Topic('liver', 'Liver results', ('liver', 'alcohol', 'hepat', 'fatty', 'lft', 'beer', 'wine'),
          ('alt', 'ast', 'alp', 'ggt', 'bilirubin_total', 'albumin', 'ast_alt_ratio'), ('alt', 'ast', 'alp', 'bilirubin_total'),
          ('liver',), ('ast_alt_ratio',)),
    Topic('kidney', 'Kidney results', ('kidney', 'renal', 'creatinine', 'egfr', 'urea', 'urine'),
          ('creatinine', 'egfr', 'urea', 'bun', 'bun_creatinine_ratio', 'urine_acr', 'potassium', 'sodium'), ('creatinine', 'egfr'), ('kidney',),
          ('egfr_calc', 'bun_creatinine_ratio')),
    Topic('vitamins', 'Vitamin results', ('vitamin', 'vit ', 'b12', 'folate', 'folic', 'deficien', 'supplement'),
          ('vitamin_d_25oh', 'vitamin_b12', 'folate'), ('vitamin_d_25oh', 'vitamin_b12', 'folate'), ('vitamins',)),
    Topic('thyroid', 'Thyroid results', ('thyroid', 'tsh', 'weight', 'metabolism', 't4', 't3'),
          ('tsh', 'free_t4', 't4', 'free_t3', 't3'), ('tsh', 'free_t4'), ('thyroid',)),
    Topic('iron', 'Iron results', ('iron', 'ferritin'),
          ('ferritin', 'iron', 'tibc', 'transferrin_saturation', 'hemoglobin', 'mcv'),
          ('ferritin',), ('iron',), ('tsat',)),
    Topic('blood', 'Blood count results', ('anemi', 'anaemi', 'blood count', 'cbc', 'haemoglobin', 'hemoglobin',
                                           'platelet', 'white cell', 'infection', 'immun', 'bleed', 'bruis'),
          ('hemoglobin', 'hematocrit', 'rbc', 'mcv', 'mch', 'mchc', 'rdw', 'wbc', 'neutrophils_abs',
           'neutrophils_pct', 'lymphocytes_abs', 'lymphocytes_pct', 'platelets'), ('hemoglobin', 'wbc', 'platelets'),
          ('haematology',)),
    Topic('inflammation', 'Inflammation results', ('inflamm', 'crp'), ('crp',), ('crp',), ('inflammation',)),
    Topic('electrolytes', 'Electrolyte results', ('sodium', 'potassium', 'calcium', 'electrolyte', 'salt'),
          ('sodium', 'potassium', 'calcium'), ('sodium', 'potassium'), ('electrolytes',), ('calcium_corrected',)),
)


# one compiled pattern per topic (any of its words at a word start): built once, not per word per query
_TOPIC_RES = tuple(re.compile(r'\b(?:' + '|'.join(map(re.escape, t.words)) + ')') for t in TOPICS)


def detect_topics(query: str) -> list[Topic]:
    """Topics the query mentions, in the order they first appear; empty for a general request."""
    q = ' ' + query.lower() + ' '
    found: list[tuple[int, int, Topic]] = []
    for order, (topic, pattern) in enumerate(zip(TOPICS, _TOPIC_RES, strict=True)):
        first = pattern.search(q)  # the leftmost of the topic's words
        if first:
            found.append((first.start(), order, topic))
    return [t for _, _, t in sorted(found, key=lambda x: (x[0], x[1]))]


def _wrap(text: str, indent: str = '', bullet: str = '') -> list[str]:
    """Greedy word wrap at WIDTH (textwrap's general machinery cost a tenth of the interpretation)."""
    first = indent + bullet
    lines: list[str] = []
    current, size, empty = [first], len(first), True
    for word in text.split():
        if not empty and size + 1 + len(word) > WIDTH:
            lines.append(''.join(current))
            current, size, empty = [' ' * len(first)], len(first), True
        current.append(word if empty else ' ' + word)
        size += len(word) + (0 if empty else 1)
        empty = False
    if not empty:
        lines.append(''.join(current))
    return lines or [first.rstrip()]


def result_line(r: LabResult) -> str:
    """``Haemoglobin: 9.1 g/dL (range 13.0–17.0) — LOW``."""
    rng = range_text(r)
    status = {'high': 'HIGH', 'low': 'LOW', 'normal': 'within range'}.get(r.flag or '', 'no range printed')
    return f'{r.name}: {value_text(r)}' + (f' (range {rng})' if rng else '') + f' — {status}'


def derived_line(d: DerivedValue) -> str:
    """``Non-HDL cholesterol: 160 mg/dL (calculated)``."""
    tag = '' if 'calculated' in d.name.lower() else ' (calculated)'
    return f'{d.name}: {fmt_num(d.value)}{(" " + d.unit) if d.unit else ""}{tag}'


def _finding_lines(f: Finding, indent: str = '  ') -> list[str]:
    return _wrap(f'{f.title} [{f.severity}]: {f.detail}', indent, '• ')


def _topic_block(topic: Topic, labs: Labs, hits: list[Hit]) -> list[str]:
    lines = [f'{topic.label}:']
    present = [labs.get(k) for k in topic.keys]
    rows = [r for r in present if r is not None]
    for r in rows:
        lines += _wrap(result_line(r), '  ', '• ')
    for key in topic.derived:
        d = labs.derived.get(key)
        if d is not None:
            lines += _wrap(derived_line(d), '  ', '• ')
    # a calculated stand-in (eGFR from creatinine) means the value is not really missing
    missing = [_LABELS.get(k, k) for k in topic.core
               if not labs.has(k) and _STAND_INS.get(k, '') not in labs.derived]
    if not rows:
        lines = _wrap(f'This report has no {topic.label.lower()} ({", ".join(missing)}), so I cannot comment on '
                      'them.')
        return lines
    if missing:
        lines += _wrap(f'Not on this report: {", ".join(missing)}.', '  ')
    keys = {labs.actual(k) for k in topic.keys}
    # markers, not specialty, decide relevance: a tired patient does not need the eosinophils here
    relevant = [h.finding for h in hits if keys.intersection(h.finding.markers)]
    if relevant:
        lines.append('  What this means:')
        for f in relevant:
            lines += _finding_lines(f, '    ')
    elif all(r.flag in ('normal', None) for r in rows):
        unflagged = any(r.flag is None for r in rows)
        lines += _wrap('All of these are within the printed reference ranges'
                       + (' (where a range is printed)' if unflagged else '') + ', and nothing here needs attention.',
                       '  ')
    return lines


def _abnormal(labs: Labs) -> list[LabResult]:
    return [r for r in labs.results if r.flag in ('low', 'high')]


def _elsewhere(others: list[LabResult], hits: list[Hit], shown: set[str]) -> list[str]:
    """One short paragraph on what the query did not ask about but is out of range."""
    if not others:
        return _wrap('Nothing else on the report is out of range.')
    n = len(others)
    head = f'Elsewhere on the report, {n} other result{"s are" if n > 1 else " is"} out of range'
    if n <= 6:
        return _wrap(head + ': ' + '; '.join(f'{r.name} ({r.flag})' for r in others) + '. See the findings below.')
    main = [h.finding.title for h in hits
            if h.finding.severity != 'info' and not shown.intersection(h.finding.markers)][:3]
    tail = f'; the main ones: {"; ".join(main)}' if main else ''
    return _wrap(f'{head}{tail}. See the full list and findings below.')


def build_answer(query: str, labs: Labs, hits: list[Hit]) -> str:
    """The reply to ``query``: critical results first, then the asked-about results, then the rest."""
    if not labs.results:
        return '\n'.join(_wrap(NO_RESULTS))
    lines: list[str] = []
    critical = [h.finding for h in hits if h.finding.severity == 'critical']
    if critical:
        lines += _wrap('Important: ' + '; '.join(f.title for f in critical)
                       + '. Results this far out of range need prompt medical review — contact your doctor today.')
        lines.append('')
    topics = detect_topics(query)
    abnormal = _abnormal(labs)
    if topics:
        shown: set[str] = set()
        for topic in topics:
            lines += _topic_block(topic, labs, hits)
            lines.append('')
            shown.update(labs.actual(k) for k in topic.keys)
        lines += _elsewhere([r for r in abnormal if r.canonical not in shown], hits, shown)
        return '\n'.join(lines).strip()
    n = len(labs.results)
    unranged = sum(1 for r in labs.results if r.flag is None)
    if not abnormal and not unranged:
        lines += _wrap(f'All {n} results are within the printed reference ranges.')
    elif not abnormal:
        verb, pronoun = ('has', 'it') if unranged == 1 else ('have', 'they')
        lines += _wrap(f'No result is outside its printed reference range ({unranged} of {n} {verb} no range '
                       f'printed, so {pronoun} cannot be judged against one).')
    else:
        verb = 'is' if len(abnormal) == 1 else 'are'
        lines += _wrap(f'Overall, {len(abnormal)} of {n} results {verb} outside the printed reference ranges:')
        for r in abnormal:
            lines += _wrap(result_line(r), '  ', '• ')
    main = [h.finding for h in hits if h.finding.severity != 'info']
    if main:
        lines.append('')
        lines.append('Main findings:')
        for f in main[:8]:
            lines += _wrap(f'{f.title} [{f.severity}]', '  ', '• ')
        if len(main) > 8:
            lines += _wrap(f'…and {len(main) - 8} more, listed below by specialist.', '  ')
    elif abnormal:
        notes = [h.finding for h in hits]
        lines += _wrap('No pattern of concern stands out' + (':' if notes else '.'))
        for f in notes:
            lines += _wrap(f'{f.title}: {f.detail}', '  ', '• ')
    elif not unranged:
        lines += _wrap('Nothing on this report needs attention.')
    return '\n'.join(lines).strip()


def _heading(lines: list[str], title: str) -> None:
    if lines and lines[-1]:
        lines.append('')
    lines += [title.upper(), '-' * len(title)]


def specialty_order(findings: list[Finding]) -> list[str]:
    """Specialties by their most severe finding, ties in first-seen order."""
    best: dict[str, int] = {}
    for f in findings:
        best[f.specialty] = min(best.get(f.specialty, 99), severity_rank(f.severity))
    return sorted(best, key=lambda s: best[s])


def _findings_section(findings: list[Finding]) -> list[str]:
    if not findings:
        return _wrap('No specialist has anything to flag on these results.', '  ')
    lines: list[str] = []
    for specialty in specialty_order(findings):
        lines.append(SPECIALTY_TITLES.get(specialty, specialty.capitalize()))
        for f in findings:
            if f.specialty == specialty:
                lines += _wrap(f'[{f.severity.upper()}] {f.title}', '  ')
                lines += _wrap(f.detail, '      ')
        lines.append('')
    return lines


def build_analysis(labs: Labs, findings: list[Finding], derived: list[DerivedValue], answer: str,
                   recommendations: dict[str, list[str]], query: str) -> str:
    """The full plain-text analysis (≤ 100 columns): answer, out-of-range list, findings, advice."""
    title = 'Blood test analysis'
    lines = [title.upper(), '=' * len(title)]
    p = labs.patient
    about = [f'{p.age:g} years' if p.age is not None else '', p.sex or '',
             f'collected {p.collected}' if p.collected else '']
    if any(about):
        lines.append('Patient: ' + ', '.join(a for a in about if a))
    abnormal = _abnormal(labs)
    lines.append(f'Results read: {len(labs.results)} ({len(abnormal)} outside the printed range)')
    _heading(lines, 'Your question')
    if query.strip():
        lines += _wrap(f'"{query.strip()}"')
        lines.append('')
    lines += answer.splitlines()
    if not labs.results:
        _heading(lines, 'Disclaimer')
        lines += _wrap(DISCLAIMER)
        return '\n'.join(lines) + '\n'
    _heading(lines, 'Out-of-range results')
    if abnormal:
        for r in abnormal:
            lines += _wrap(result_line(r), '  ', '• ')
    else:
        lines += _wrap('None: every result is within its printed reference range.', '  ')
    _heading(lines, 'Findings by specialist')
    lines += _findings_section(findings)
    if derived:
        _heading(lines, 'Calculated values')
        for d in derived:
            lines += _wrap(derived_line(d) + (f'. {d.note}' if d.note else ''), '  ', '• ')
    _heading(lines, 'Recommendations')
    for key, label in (('nutrition', 'Nutrition'), ('exercise', 'Exercise'), ('follow_up', 'Follow-up')):
        items = recommendations.get(key, [])
        if items:
            lines.append(label)
            for item in items:
                lines += _wrap(item, '  ', '• ')
    _heading(lines, 'Disclaimer')
    lines += _wrap(DISCLAIMER)
    return '\n'.join(lines) + '\n'
