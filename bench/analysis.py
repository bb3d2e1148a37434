"""Analysis throughput against its ceiling, and where the time of one report goes.

    python bench/analysis.py [--workers 2] [--reports 40] [--runs 3] [--eager]

Ceiling: pypdf's own text extraction of the sample in N processes (reports/s). bloodq:
the same sample through HTTP, queue and N embedded workers, end to end (reports/s).
Stages: pypdf's own extraction (the yardstick), bloodq's extraction, parsing, interpretation
and rendering for the shared sample and a generated 50-page report (median of --runs),
measured in this process. bloodq jobs skip rendering (REPORT_PDF=on_demand, the default);
``--eager`` measures the end-to-end rate with the PDF drawn in every job as well.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / 'tests'), str(ROOT)]

from pdfs import simple_report
from procs import Proc, service_env, submit, until_terminal

SAMPLE = ROOT.parent / 'shared' / 'data' / 'blood_test_report.pdf'


def extract_only(pdf: bytes) -> int:
    from pypdf import PdfReader

    return sum(len(page.extract_text() or '') for page in PdfReader(io.BytesIO(pdf)).pages)


def ceiling(pdf: bytes, workers: int, reports: int) -> float:
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(extract_only, [pdf] * workers))  # warm the processes (imports)
        started = time.perf_counter()
        list(pool.map(extract_only, [pdf] * reports))
        return reports / (time.perf_counter() - started)


async def finished(http: aiohttp.ClientSession, url: str, job_id: str) -> dict[str, Any]:
    """Long-poll the status as a client should (``?wait=``): polling every 100 ms would spend the
    CPU being measured on status requests."""
    while True:
        async with http.get(f'{url}/status/{job_id}?wait=60') as r:
            body: dict[str, Any] = await r.json()
        if body['status'] in ('completed', 'failed', 'cancelled'):
            return body


async def bloodq_rate(pdf: bytes, workers: int, reports: int, report_pdf: str = 'on_demand') -> float:
    with tempfile.TemporaryDirectory(prefix='bloodq-analysis-') as tmp:
        env = service_env('memory', None, EMBEDDED_WORKERS=workers, REPORT_PDF=report_pdf, LOG_LEVEL='warning')
        api = await Proc('main.py', Path(tmp), env).start().ready()
        try:
            async with aiohttp.ClientSession() as http:
                warm = [await submit(http, api.url, pdf) for _ in range(workers)]  # start the analysis children
                for _, body in warm:
                    await until_terminal(http, api.url, body['job_id'])
                started = time.perf_counter()
                bodies = await asyncio.gather(*(submit(http, api.url, pdf) for _ in range(reports)))
                finals = await asyncio.gather(*(finished(http, api.url, b['job_id']) for _, b in bodies))
                elapsed = time.perf_counter() - started
                assert all(f['status'] == 'completed' for f in finals)
                return reports / elapsed
        finally:
            api.stop()


def stages(pdf: bytes, runs: int) -> dict[str, float]:
    from bloodq.analysis.compose import compose_result
    from bloodq.analysis.extract import extract_pages
    from bloodq.analysis.interpret import interpret
    from bloodq.analysis.parser import parse_report
    from bloodq.report import render_report

    samples: dict[str, list[float]] = {k: [] for k in ('pypdf_extract', 'extract', 'parse', 'interpret', 'render')}
    for _ in range(runs):
        t = time.perf_counter()
        extract_only(pdf)
        samples['pypdf_extract'].append((time.perf_counter() - t) * 1000)
        t0 = time.perf_counter()
        pages = extract_pages(pdf)
        t1 = time.perf_counter()
        parsed = parse_report(pages)
        t2 = time.perf_counter()
        meaning = interpret(parsed, 'Please analyze my blood test results')
        result = compose_result(parsed, meaning, query='q', file_name='r.pdf', processing_time_s=0)
        t3 = time.perf_counter()
        render_report(result)
        t4 = time.perf_counter()
        for key, value in zip(('extract', 'parse', 'interpret', 'render'), (t1 - t0, t2 - t1, t3 - t2, t4 - t3),
                              strict=True):
            samples[key].append(value * 1000)
    out = {f'{k}_ms': round(statistics.median(v), 2) for k, v in samples.items()}
    # the goal's yardstick is pypdf's own extraction; bloodq's (fonts parsed once per document) is cheaper
    both = out['parse_ms'] + out['interpret_ms']
    out['parse_plus_interpret_share_of_pypdf_extract'] = round(both / out['pypdf_extract_ms'], 3)
    out['parse_plus_interpret_share_of_bloodq_extract'] = round(both / out['extract_ms'], 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--reports', type=int, default=40)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--eager', action='store_true', help='also measure REPORT_PDF=eager (the PDF in every job)')
    args = parser.parse_args()
    sample = SAMPLE.read_bytes() if SAMPLE.exists() else simple_report(pages=10)
    fifty = simple_report(pages=50)
    for name, pdf in (('shared_sample', sample), ('generated_50_pages', fifty)):
        for key, value in stages(pdf, args.runs).items():
            print(f'{name}.{key}={value}')
    modes = ['on_demand', 'eager'] if args.eager else ['on_demand']
    for n in sorted({1, args.workers}):
        ceilings: list[float] = []
        rates: dict[str, list[float]] = {m: [] for m in modes}
        for _ in range(args.runs):  # side by side in every run: the machine's speed drifts between runs
            ceilings.append(ceiling(sample, n, args.reports))
            for mode in modes:
                rates[mode].append(asyncio.run(bloodq_rate(sample, n, args.reports, mode)))
        c = statistics.median(ceilings)
        for mode in modes:
            b = statistics.median(rates[mode])
            print(f'workers={n} report_pdf={mode} ceiling_reports_per_s={c:.2f} bloodq_reports_per_s={b:.2f} '
                  f'ratio={b / c:.2f}')


if __name__ == '__main__':
    main()
