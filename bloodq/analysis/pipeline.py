"""One report from PDF bytes to the stored result and the report PDF (runs in a child)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bloodq.analysis.compose import compose_result
from bloodq.analysis.extract import extract_pages
from bloodq.analysis.interpret import interpret
from bloodq.analysis.parser import parse_report
from bloodq.report import render_report

Progress = Callable[[str, int], None]

#: (stage, progress % when the stage starts)
STAGES = (('extracting', 5), ('parsing', 50), ('interpreting', 65), ('rendering', 80))


def analyse(pdf: bytes, *, query: str, file_name: str, max_pages: int, progress: Progress,
            render: bool = True) -> tuple[dict[str, Any], bytes]:
    """Extract, parse, interpret and (with ``render``) render; returns the result dict and the report PDF
    (empty when not rendered: it is then drawn from the stored result when first asked for).

    Raises the :class:`~bloodq.errors.PdfError` subclasses for unreadable input.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    mark = started

    def stage(index: int) -> None:
        nonlocal mark
        now = time.perf_counter()
        if index:
            timings[STAGES[index - 1][0]] = round(now - mark, 4)
        mark = now
        progress(*STAGES[index])

    stage(0)
    pages = extract_pages(pdf, max_pages=max_pages)
    stage(1)
    parsed = parse_report(pages)
    stage(2)
    meaning = interpret(parsed, query)
    result = compose_result(parsed, meaning, query=query, file_name=file_name,
                            processing_time_s=time.perf_counter() - started)
    report = b''
    if render:
        stage(3)
        report = render_report(result)
        timings['rendering'] = round(time.perf_counter() - mark, 4)
    else:
        timings['interpreting'] = round(time.perf_counter() - mark, 4)
    result['processing_time'] = round(time.perf_counter() - started, 3)
    result['stage_timings_s'] = timings
    return result, report
