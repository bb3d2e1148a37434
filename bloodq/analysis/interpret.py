"""Turn a :class:`ParsedReport` into an :class:`Interpretation` for a user's query.

The work is split by concern: :mod:`.conversions` (unit conversion), :mod:`.derived` (eGFR, ratios),
:mod:`.rules` and its rule sets (findings), :mod:`.advice` (recommendations) and
:mod:`.narrative` (answer and analysis text). This module only joins them.
"""

from __future__ import annotations

from bloodq.analysis.advice import recommendations
from bloodq.analysis.derived import compute_derived
from bloodq.analysis.labs import Labs
from bloodq.analysis.model import Interpretation, ParsedReport
from bloodq.analysis.narrative import DISCLAIMER, build_analysis, build_answer, specialty_order
from bloodq.analysis.rules import run_rules

__all__ = ['interpret']


def interpret(report: ParsedReport, query: str) -> Interpretation:
    """Findings, derived values, advice and readable text for ``report``, answering ``query`` first.

    Pure and deterministic: the same report and query always give the same interpretation.
    """
    derived = compute_derived(report)
    labs = Labs(report, derived)
    hits = run_rules(labs) if report.results else []
    findings = [h.finding for h in hits]
    answer = build_answer(query, labs, hits)
    abnormal = [r.name for r in report.results if r.flag in ('low', 'high')]
    advice = recommendations(hits, len(report.results), abnormal)
    analysis = build_analysis(labs, findings, derived, answer, advice, query)
    return Interpretation(
        findings=findings,
        specialists_consulted=specialty_order(findings),
        derived=derived,
        answer=answer,
        recommendations=advice,
        analysis=analysis,
        disclaimer=DISCLAIMER,
    )
