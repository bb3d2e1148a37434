"""Analysis throughput against its ceiling, and where the time of one report goes.

    python bench/analysis.py [--workers 2] [--reports 40] [--runs 3]

Ceiling: pypdf's own text extraction of the sample in N processes (reports/s). bloodq:
the same sample through HTTP, queue and N embedded workers, end to end (reports/s).
Stages: extraction, parsing, interpretation, rendering for the shared sample and a
generated 50-page report (median of --runs), measured in this process.
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


async def bloodq_rate(pdf: bytes, workers: int, reports: int) -> float:
    with tempfile.TemporaryDirectory(prefix='bloodq-analysis-') as tmp:
        api = await Proc('main.py', Path(tmp), service_env('memory', None, EMBEDDED_WORKERS=workers,
                                                                 LOG_LEVEL='warning')).start().ready()
        try:
            async with aiohttp.ClientSession() as http:
                warm = [await submit(http, api.url, pdf) for _ in range(workers)]  # start the analysis children
                for _, body in warm:
                    await until_terminal(http, api.url, body['job_id'])
                started = time.perf_counter()
                bodies = await asyncio.gather(*(submit(http, api.url, pdf) for _ in range(reports)))
                finals = await asyncio.gather(*(until_terminal(http, api.url, b['job_id'], timeout_s=600)
                                                for _, b in bodies))
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

    samples: dict[str, list[float]] = {k: [] for k in ('extract', 'parse', 'interpret', 'render')}
    for _ in range(runs):
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
        for key, value in zip(samples, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            value_ms = value * 1000
            samples[key].append(value_ms)
    out = {f'{k}_ms': round(statistics.median(v), 2) for k, v in samples.items()}
    out['parse_plus_interpret_share_of_extract'] = round((out['parse_ms'] + out['interpret_ms']) / out['extract_ms'], 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--reports', type=int, default=40)
    parser.add_argument('--runs', type=int, default=3)
    args = parser.parse_args()
    sample = SAMPLE.read_bytes() if SAMPLE.exists() else simple_report(pages=10)
    fifty = simple_report(pages=50)
    for name, pdf in (('shared_sample', sample), ('generated_50_pages', fifty)):
        for key, value in stages(pdf, args.runs).items():
            print(f'{name}.{key}={value}')
    for n in sorted({1, args.workers}):
        ceilings = [ceiling(sample, n, args.reports) for _ in range(args.runs)]
        rates = [asyncio.run(bloodq_rate(sample, n, args.reports)) for _ in range(args.runs)]
        c, b = statistics.median(ceilings), statistics.median(rates)
        print(f'workers={n} ceiling_reports_per_s={c:.2f} bloodq_reports_per_s={b:.2f} ratio={b / c:.2f}')


if __name__ == '__main__':
    main()
