"""Run every rule set, add a plain finding for any flagged result no rule explained, sort."""

from __future__ import annotations

from dataclasses import replace

from bloodq.analysis.labs import Hit, Labs, describe, severity_rank, specialty_for
from bloodq.analysis.model import LabResult, Severity
from bloodq.analysis.rules_blood import blood_rules, hit
from bloodq.analysis.rules_chem import lipids, metabolic
from bloodq.analysis.rules_organs import electrolytes, kidney, liver, thyroid

#: markers whose low values are rarely of concern (the range exists to catch high values)
_BENIGN_LOW = frozenset({
    'ast', 'alt', 'alp', 'ggt', 'ldh', 'bilirubin_total', 'bilirubin_direct', 'bilirubin_indirect', 'crp', 'hs_crp',
    'esr', 'basophils_pct', 'basophils_abs', 'eosinophils_pct', 'eosinophils_abs', 'monocytes_pct', 'monocytes_abs',
    'triglycerides', 'ldl', 'vldl', 'non_hdl', 'cholesterol_total', 'urea', 'bun', 'uric_acid', 'hba1c',
    'ra_factor', 'aso', 'procalcitonin', 'apo_b', 'lpa', 'homocysteine', 'insulin_fasting', 'c_peptide'})


def _generic(r: LabResult) -> Hit:
    """A flagged result that no pattern rule covers still gets said, plainly."""
    key = r.canonical or r.name
    if r.flag == 'low' and r.canonical in _BENIGN_LOW:
        return hit('generic_benign_low', specialty_for(r.canonical, r.panel), 'info', f'{r.name} below the range',
                   f'{describe(r)}. A low value of this test is rarely a concern on its own.', [key])
    direction = 'above' if r.flag == 'high' else 'below'
    far = ((r.flag == 'high' and r.ref_high is not None and r.ref_high > 0 and r.value > 2 * r.ref_high)
           or (r.flag == 'low' and r.ref_low is not None and r.ref_low > 0 and r.value < 0.5 * r.ref_low))
    sev: Severity = 'moderate' if far else 'low'
    return hit(f'generic_{r.flag}', specialty_for(r.canonical, r.panel), sev, f'{r.name} {direction} the range',
               f'{describe(r)}. One result outside the printed range is common and often not significant on its '
               'own; your doctor can judge it with your symptoms and other results.', [key])


def run_rules(labs: Labs) -> list[Hit]:
    """All hits for a report, most severe first; every flagged result appears in at least one."""
    hits: list[Hit] = []
    hits.extend(blood_rules(labs))
    for rule_set in (metabolic, lipids, liver, kidney, thyroid, electrolytes):
        hits.extend(rule_set(labs))
    # rules speak in their own keys (free_t4); findings must name the report's keys (ft4)
    hits = [Hit(h.tag, replace(h.finding, markers=list(dict.fromkeys(labs.actual(m) for m in h.finding.markers))),
                tuple(labs.actual(m) for m in h.context)) for h in hits]
    covered = {m for h in hits for m in h.finding.markers if m not in h.context}
    seen: set[str] = set()
    for r in labs.results:
        key = r.canonical or r.name
        if r.flag in ('low', 'high') and key not in covered and key not in seen:
            seen.add(key)
            hits.append(_generic(r))
    # stable sort keeps the clinical order of rule sets within one severity
    return sorted(hits, key=lambda h: severity_rank(h.finding.severity))
