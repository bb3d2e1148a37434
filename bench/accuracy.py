"""Extraction accuracy against hand-checked truth files.

    python bench/accuracy.py [--shared PATH] [--fixtures DIR] [--big] [-v]

Scores the shared real report(s) (``../shared/data`` beside the project, when present) and every
generated fixture layout (generated into ``--fixtures`` or a temporary directory). Prints recall,
precision, unit, range and flag accuracy per report plus extraction and parsing times.
Exits 1 when a shared report is below 100% or a fixture below 98% on any figure.
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


def main(argv: list[str] | None = None) -> int:
    """Score everything; non-zero exit when below the thresholds."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--shared', type=Path, default=ROOT.parent / 'shared' / 'data')
    ap.add_argument('--fixtures', type=Path, default=None, help='generate fixtures here (default: a temp dir)')
    ap.add_argument('--big', action='store_true', help='also generate and score the 50-page report')
    ap.add_argument('-v', '--verbose', action='store_true', help='list every mismatch')
    args = ap.parse_args(argv)
    failed = False
    parse_report(['warm-up 1.0 g/dL'])  # load the catalogue and compile regexes outside the timings
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
