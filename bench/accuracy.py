"""Extraction accuracy against hand-checked truth files.

    python bench/accuracy.py [--shared PATH] [--fixtures DIR] [--big] [-v]
    python bench/accuracy.py --speed [--runs 30]

Scores the shared real report(s) (``../shared/data`` beside the project, when present) and every
generated fixture layout (generated into ``--fixtures`` or a temporary directory). Prints recall,
precision, unit, range and flag accuracy per report plus extraction and parsing times.
Exits 1 when a shared report is below 100% or a fixture below 98% on any figure.

``--speed`` instead times the stages as ``bench/analysis.py stages()`` does (extraction, parsing,
interpretation + composing) for the shared sample and the generated 50-page report, and prints the
share parsing + interpretation take of extraction (the goal: under 10% on the sample), from the
fastest and the median run (the fastest is the least disturbed by other work on the machine).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'tests' / 'fixtures'))

from bloodq.analysis.extract import extract_pages
from bloodq.analysis.parser import parse_report
from bloodq.analysis.scoring import Score, load_truth, score_report

SHARED_MIN = 1.0
FIXTURE_MIN = 0.98


def run(truth_path: Path, verbose: bool) -> tuple[Score, float, float]:
    """Score one report; returns the score and the extraction and parsing seconds."""
    truth = load_truth(truth_path)
    pdf = (truth_path.parent / truth['file']).read_bytes()
    t0 = time.perf_counter()
    pages = extract_pages(pdf)
    t1 = time.perf_counter()
    parsed = parse_report(pages)
    t2 = time.perf_counter()
    score = score_report(parsed, truth)
    print(f'{score.line()}  extract {1000 * (t1 - t0):7.1f} ms  parse {1000 * (t2 - t1):6.1f} ms')
    if verbose:
        for p in score.problems:
            print(f'    {p}')
    return score, t1 - t0, t2 - t1


def speed(shared: Path, runs: int) -> None:
    """Print the stage timings of the sample and the 50-page report (CPU time of this process)."""
    import statistics

    sys.path.insert(0, str(ROOT / 'tests'))
    from pdfs import simple_report

    from bloodq.analysis.compose import compose_result
    from bloodq.analysis.interpret import interpret

    reports = [('50-page report', simple_report(pages=50))]
    if (shared / 'blood_test_report.pdf').is_file():
        reports.insert(0, ('shared sample', (shared / 'blood_test_report.pdf').read_bytes()))
    for label, pdf in reports:
        times: dict[str, list[float]] = {'extract': [], 'parse': [], 'interpret': []}
        for _ in range(runs):
            t0 = time.process_time()
            pages = extract_pages(pdf)
            t1 = time.process_time()
            parsed = parse_report(pages)
            t2 = time.process_time()
            meaning = interpret(parsed, 'Please analyze my blood test results')
            compose_result(parsed, meaning, query='q', file_name='r.pdf', processing_time_s=0)
            t3 = time.process_time()
            for key, value in zip(times, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                times[key].append(1000 * value)
        for how, pick in (('fastest', min), ('median', statistics.median)):
            e, p, i = (pick(times[k]) for k in times)
            print(f'{label:15} {how:8} extract {e:6.1f} ms  parse {p:5.2f} ms  interpret+compose {i:5.2f} ms  '
                  f'(parse+interpret)/extract = {(p + i) / e:.1%}')


def main(argv: list[str] | None = None) -> int:
    """Score everything; non-zero exit when below the thresholds."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--shared', type=Path, default=ROOT.parent / 'shared' / 'data')
    ap.add_argument('--fixtures', type=Path, default=None, help='generate fixtures here (default: a temp dir)')
    ap.add_argument('--big', action='store_true', help='also generate and score the 50-page report')
    ap.add_argument('-v', '--verbose', action='store_true', help='list every mismatch')
    ap.add_argument('--speed', action='store_true', help='time the stages instead of scoring')
    ap.add_argument('--runs', type=int, default=30, help='runs per report for --speed')
    args = ap.parse_args(argv)
    failed = False
    parse_report(['warm-up 1.0 g/dL'])  # load the catalogue and compile regexes outside the timings
    if args.speed:
        speed(args.shared, args.runs)
        return 0
    shared = sorted(args.shared.glob('*.truth.json')) if args.shared.is_dir() else []
    if not shared:
        print(f'(no shared truth files under {args.shared})')
    for path in shared:
        score, ext, prs = run(path, args.verbose)
        print(f'{"":22} parse/extract = {prs / ext:.1%}')
        failed |= score.worst < SHARED_MIN
    from make_reports import generate

    with tempfile.TemporaryDirectory() as tmp:
        out = args.fixtures or Path(tmp)
        for path in generate(out, big=args.big):
            score, _, _ = run(path, args.verbose)
            failed |= score.worst < FIXTURE_MIN
    print('FAIL' if failed else 'OK')
    return 1 if failed else 0


if __name__ == '__main__':
    raise SystemExit(main())
