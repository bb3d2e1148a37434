"""A read-only view of a parsed report that the interpretation rules query.

The rules ask questions such as "is haemoglobin low?" or "what is LDL in mg/dL?"; this module
answers them in one place so that every rule treats the printed flag the same way: the flag
from the printed range is the truth for "abnormal", and clinical thresholds are consulted only
when a result has no printed range.
"""

from __future__ import annotations

from dataclasses import dataclass

from bloodq.analysis.conversions import to_standard
from bloodq.analysis.model import DerivedValue, Finding, LabResult, ParsedReport, Patient, Severity

SEVERITY_ORDER: tuple[Severity, ...] = ('critical', 'high', 'moderate', 'low', 'info')
_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITY_ORDER)}

#: canonical key -> specialty; keys not listed fall back to prefixes, then the panel heading
_SPECIALTY: dict[str, str] = {
    **dict.fromkeys(('hemoglobin', 'hematocrit', 'rbc', 'mcv', 'mch', 'mchc', 'rdw', 'rdw_cv', 'rdw_sd', 'wbc',
                     'platelets', 'mpv', 'pdw', 'pct', 'plateletcrit', 'reticulocytes', 'pt', 'inr', 'aptt',
                     'fibrinogen'), 'haematology'),
    **dict.fromkeys(('glucose_fasting', 'glucose', 'glucose_random', 'glucose_pp', 'hba1c', 'eag', 'uric_acid',
                     'insulin', 'insulin_fasting', 'homa_ir', 'c_peptide'), 'metabolic'),
    **dict.fromkeys(('cholesterol_total', 'triglycerides', 'hdl', 'ldl', 'vldl', 'non_hdl', 'chol_hdl_ratio',
                     'ldl_hdl_ratio', 'tg_hdl_ratio', 'apo_a1', 'apo_b', 'lpa'), 'lipids'),
    **dict.fromkeys(('ast', 'alt', 'alp', 'ggt', 'albumin', 'total_protein', 'globulin', 'ag_ratio',
                     'ast_alt_ratio', 'ldh'), 'liver'),
    **dict.fromkeys(('creatinine', 'urea', 'bun', 'egfr', 'cystatin_c', 'bun_creatinine_ratio',
                     'urea_creatinine_ratio', 'urine_acr', 'urine_microalbumin'), 'kidney'),
    **dict.fromkeys(('tsh', 't3', 't4', 'free_t4', 'free_t3', 'ft3', 'ft4', 't3_total', 't4_total', 'anti_tpo',
                     'anti_tg'), 'thyroid'),
    **dict.fromkeys(('iron', 'ferritin', 'tibc', 'transferrin', 'transferrin_saturation', 'uibc'), 'iron'),
    **dict.fromkeys(('vitamin_b12', 'folate', 'vitamin_d_25oh', 'vitamin_d_125', 'homocysteine'), 'vitamins'),
    **dict.fromkeys(('crp', 'hs_crp', 'esr', 'procalcitonin', 'ra_factor', 'aso'), 'inflammation'),
    **dict.fromkeys(('sodium', 'potassium', 'chloride', 'calcium', 'ionized_calcium', 'bicarbonate', 'magnesium',
                     'phosphorus'), 'electrolytes'),
}
#: the catalogue's spelling of a key -> the key the rules use; both spellings are accepted
ALIASES: dict[str, str] = {'ft4': 'free_t4', 't4_total': 't4', 't3_total': 't3', 'rdw_cv': 'rdw', 'ft3': 'free_t3'}
#: derived value -> the printed result that makes computing it unnecessary
PRINTED_COUNTERPART: dict[str, str] = {'tc_hdl_ratio': 'chol_hdl_ratio', 'ldl_hdl_ratio': 'ldl_hdl_ratio',
                                       'ast_alt_ratio': 'ast_alt_ratio', 'tsat': 'transferrin_saturation',
                                       'bun_creatinine_ratio': 'bun_creatinine_ratio', 'non_hdl_calc': 'non_hdl'}
_PREFIXES = (('neutrophils', 'haematology'), ('lymphocytes', 'haematology'), ('monocytes', 'haematology'),
             ('eosinophils', 'haematology'), ('basophils', 'haematology'), ('bilirubin', 'liver'),
             ('glucose', 'metabolic'), ('vitamin', 'vitamins'), ('cholesterol', 'lipids'))
_PANEL_WORDS = (('blood count', 'haematology'), ('cbc', 'haematology'), ('haemogram', 'haematology'),
                ('hemogram', 'haematology'), ('haematology', 'haematology'), ('hematology', 'haematology'),
                ('lipid', 'lipids'), ('liver', 'liver'), ('lft', 'liver'), ('hepatic', 'liver'),
                ('kidney', 'kidney'), ('renal', 'kidney'), ('kft', 'kidney'), ('rft', 'kidney'),
                ('thyroid', 'thyroid'), ('diabet', 'metabolic'), ('glucose', 'metabolic'), ('sugar', 'metabolic'),
                ('vitamin', 'vitamins'), ('iron', 'iron'), ('electrolyte', 'electrolytes'))

SPECIALTY_TITLES: dict[str, str] = {
    'haematology': 'Haematology (blood count)', 'metabolic': 'Metabolic (blood sugar)', 'lipids': 'Lipids (cholesterol)',
    'liver': 'Liver', 'kidney': 'Kidney', 'thyroid': 'Thyroid', 'iron': 'Iron stores', 'vitamins': 'Vitamins',
    'inflammation': 'Inflammation', 'electrolytes': 'Electrolytes and minerals', 'general': 'Other results',
}


def specialty_for(canonical: str, panel: str = '') -> str:
    """The specialty a marker belongs to: mapping, then key prefix, then panel heading, else general."""
    if canonical in _SPECIALTY:
        return _SPECIALTY[canonical]
    for prefix, specialty in _PREFIXES:
        if canonical.startswith(prefix):
            return specialty
    low = panel.lower()
    for word, specialty in _PANEL_WORDS:
        if word in low:
            return specialty
    return 'general'


def severity_rank(severity: str) -> int:
    """0 for critical up to 4 for info; sorts most severe first."""
    return _RANK.get(severity, len(SEVERITY_ORDER))


def cap_for_flag(severity: Severity, flag: str | None) -> Severity:
    """Never let a threshold category outrank ``low`` when the printed range calls the value normal."""
    if flag == 'normal' and severity_rank(severity) < severity_rank('low'):
        return 'low'
    return severity


def fmt_num(value: float) -> str:
    """A compact human number: 117, 6.5, 0.25, 1.2e+05 never (big values stay whole)."""
    if abs(value) >= 100:
        return f'{value:.0f}'
    if abs(value) >= 10:
        return f'{value:.1f}'.rstrip('0').rstrip('.')
    return f'{value:.2f}'.rstrip('0').rstrip('.')


def range_text(r: LabResult) -> str:
    """The printed range, or one rebuilt from the bounds; ``''`` when there is none."""
    if r.ref_text:
        return r.ref_text
    if r.ref_low is not None and r.ref_high is not None:
        return f'{fmt_num(r.ref_low)}–{fmt_num(r.ref_high)}'
    if r.ref_high is not None:
        return f'< {fmt_num(r.ref_high)}'
    if r.ref_low is not None:
        return f'> {fmt_num(r.ref_low)}'
    return ''


def value_text(r: LabResult) -> str:
    """The value as printed, with its unit."""
    shown = r.value_text or fmt_num(r.value)
    return f'{shown} {r.unit}'.strip()


@dataclass(frozen=True, slots=True)
class Hit:
    """A finding plus the advice tag that selects its recommendations.

    ``context`` lists markers the finding cites without explaining their own flag (normal AST
    behind an isolated ALP rise); a flagged context marker still gets a finding of its own.
    """

    tag: str
    finding: Finding
    context: tuple[str, ...] = ()


class Labs:
    """Results indexed by canonical key (first occurrence wins), plus patient and derived values."""

    def __init__(self, report: ParsedReport, derived: list[DerivedValue] | None = None) -> None:
        self.results: list[LabResult] = list(report.results)
        self.patient: Patient = report.patient
        self._by_key: dict[str, LabResult] = {}
        self._actual: dict[str, str] = {}
        for r in self.results:
            key = ALIASES.get(r.canonical, r.canonical)
            if key and key not in self._by_key:
                self._by_key[key] = r
                self._actual[key] = r.canonical
        self.derived: dict[str, DerivedValue] = {d.canonical: d for d in derived or []}

    def actual(self, key: str) -> str:
        """The canonical key as the report spells it (``ft4``) for a rule key (``free_t4``)."""
        return self._actual.get(key, key)

    def ratio(self, key: str) -> float | None:
        """A ratio the report prints (preferred) or one computed in :mod:`.derived`; None when neither."""
        printed = self._by_key.get(PRINTED_COUNTERPART.get(key, ''))
        if printed is not None:
            return printed.value
        d = self.derived.get(key)
        return None if d is None else d.value

    def get(self, key: str) -> LabResult | None:
        """The result for a canonical key, or None."""
        return self._by_key.get(key)

    def has(self, key: str) -> bool:
        """Whether the report has a result for ``key``."""
        return key in self._by_key

    def std(self, key: str) -> float | None:
        """The value in the standard unit for ``key``; None when absent or the unit is unknown."""
        r = self._by_key.get(key)
        return None if r is None else to_standard(key, r.value, r.unit)

    def flag(self, key: str) -> str | None:
        """The printed-range flag, or None."""
        r = self._by_key.get(key)
        return None if r is None else r.flag

    def high(self, key: str, above: float | None = None) -> bool:
        """Above the printed range; without a range, above ``above`` in the standard unit."""
        r = self._by_key.get(key)
        if r is None:
            return False
        if r.flag is not None:
            return r.flag == 'high'
        v = self.std(key)
        return above is not None and v is not None and v > above

    def low(self, key: str, below: float | None = None) -> bool:
        """Below the printed range; without a range, below ``below`` in the standard unit."""
        r = self._by_key.get(key)
        if r is None:
            return False
        if r.flag is not None:
            return r.flag == 'low'
        v = self.std(key)
        return below is not None and v is not None and v < below

    def ok(self, key: str, low: float | None = None, high: float | None = None) -> bool:
        """Present and neither high nor low (by flag, or by the given limits without one)."""
        return self.has(key) and not self.high(key, high) and not self.low(key, low)

    def beyond(self, key: str) -> float | None:
        """How many times the upper limit a high value is (2.0 = twice the limit)."""
        r = self._by_key.get(key)
        if r is None or r.ref_high is None or r.ref_high <= 0:
            return None
        return r.value / r.ref_high

    def show(self, key: str) -> str:
        """``Haemoglobin 9.1 g/dL (range 13.0–17.0, low)`` for use inside sentences."""
        r = self._by_key.get(key)
        if r is None:
            return key
        return describe(r)

    def name(self, key: str) -> str:
        """The printed test name for a key."""
        r = self._by_key.get(key)
        return r.name if r is not None else key


def describe(r: LabResult) -> str:
    """One result as a sentence fragment with value, unit, range and flag."""
    rng = range_text(r)
    label = 'range' if r.ref_source != 'catalogue' else 'typical range'
    parts = [p for p in ((f'{label} {rng}' if rng else ''), (r.flag if r.flag and r.flag != 'normal' else ''))
             if p]
    tail = f' ({", ".join(parts)})' if parts else ''
    return f'{r.name} {value_text(r)}{tail}'
