"""Build the JSON ``result`` a finished job stores from the parsed report and its interpretation."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from bloodq.analysis.model import Interpretation, ParsedReport, record

_SECTIONS = ('nutrition', 'exercise', 'follow_up')


def compose_result(report: ParsedReport, interp: Interpretation, *, query: str, file_name: str,
                   processing_time_s: float) -> dict[str, Any]:
    """The job's result dict (JSON-ready): analysis text, every row, findings and a summary."""
    abnormal = [r.name for r in report.results if r.flag in ('low', 'high')]
    return {
        'status': 'success',
        'query': query,
        'analysis': interp.analysis,
        # only the base name: a client path (C:\\Users\\...) says more about the uploader than needed
        'file_processed': PurePath(file_name.replace('\\', '/')).name,
        'processing_time': round(processing_time_s, 3),
        'specialists_consulted': list(interp.specialists_consulted),
        'disclaimer': interp.disclaimer,
        'results': [record(r) for r in report.results],
        'qualitative': [record(q) for q in report.qualitative],
        'patient': record(report.patient),
        'findings': [record(f) for f in interp.findings],
        'derived': [record(d) for d in interp.derived],
        'answer': interp.answer,
        'recommendations': {k: list(interp.recommendations.get(k, [])) for k in _SECTIONS},
        'summary': {'n_results': len(report.results), 'n_abnormal': len(abnormal), 'abnormal': abnormal},
    }
