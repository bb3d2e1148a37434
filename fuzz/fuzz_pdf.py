"""Coverage-guided fuzzing of what a child does with uploaded bytes: ``extract_pages`` then ``parse_report``.

Any exception other than a :class:`bloodq.errors.JobFailure` is a finding. ``MemoryError`` and
``RecursionError`` are tolerated, as in the child, which runs under an address-space limit: this
harness sets the same kind of limit (``RLIMIT_AS``, ``--memory-mb``, 2048 MB by default).

Install atheris (a CPython 3.11 manylinux wheel, listed in requirements-dev.txt)::

    pip install atheris

Run (seeds missing from the corpus directory are written into it first: the hostile corpus of
tests/hostile/make_corpus.py plus the PDFs of tests/pdfs.py; add ``--tolerate-known`` to look past the
findings already reported, listed in ``KNOWN``)::

    python fuzz/fuzz_pdf.py /tmp/bloodq-fuzz/pdf -max_total_time=120 -max_len=131072 -timeout=20 \\
        -rss_limit_mb=0 -artifact_prefix=/tmp/bloodq-fuzz/crash-pdf-

``test_one_input`` is plain Python; tests/test_fuzz_smoke.py runs it over the seeds without atheris.
"""

from __future__ import annotations

import logging
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / 'tests'):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bloodq.analysis.extract import extract_pages
from bloodq.analysis.parser import parse_report
from bloodq.errors import JobFailure

MAX_PAGES = 50
SEED_MAX_BYTES = 128 * 1024  #: larger seeds slow every mutation down; the service test covers them
SLOW_SEEDS = frozenset({'cpu_bomb_text_ops'})  #: takes the full job time limit by design


def test_one_input(data: bytes) -> None:
    """Extract and parse ``data``; only bloodq's job failures (or running out of memory or stack) may escape.

    The extracted text must also be encodable as UTF-8: the child sends what it read back to its parent
    as JSON, and a string orjson refuses (a lone surrogate) would kill the child instead of failing the job.
    """
    try:
        pages = extract_pages(data, max_pages=MAX_PAGES)
        for text in pages:
            text.encode('utf-8')  # UnicodeEncodeError here is a finding
        parse_report(pages)
    except JobFailure:
        return
    except (MemoryError, RecursionError):
        return


def seed_inputs() -> dict[str, bytes]:
    """Seed name -> bytes: the hostile corpus (small, fast cases) and tests/pdfs.py's reports."""
    import pdfs
    from hostile.make_corpus import CASES

    seeds = {f'hostile-{c.name}': c.build() for c in CASES if c.name not in SLOW_SEEDS}
    seeds |= {
        'pdfs-simple_report': pdfs.simple_report(),
        'pdfs-simple_report_3_pages': pdfs.simple_report(pages=3),
        'pdfs-not_a_lab_report': pdfs.not_a_lab_report(),
        'pdfs-image_only': pdfs.image_only(),
        'pdfs-truncated': pdfs.truncated(),
    }
    return {name: data for name, data in seeds.items() if len(data) <= SEED_MAX_BYTES}


def write_seeds(directory: Path) -> None:
    """Add every seed the corpus directory lacks (what the fuzzer added, or changed, stays)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in seed_inputs().items():
        if not (directory / name).exists():
            (directory / name).write_bytes(data)


def limit_memory(megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _innermost_file(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename if tb is not None else ''


#: Findings already reported (fuzz/RESULTS.md), tolerated only with --tolerate-known so a run can look
#: past them for new ones. test_one_input itself (and so the smoke test) never tolerates them.
KNOWN = {
    'lone-surrogate-text': lambda exc: isinstance(exc, UnicodeEncodeError) and 'surrogate' in str(exc),
}


def tolerant_one_input(data: bytes) -> None:
    try:
        test_one_input(data)
    except Exception as exc:
        if not any(match(exc) for match in KNOWN.values()):
            raise


def main() -> None:
    import atheris

    tolerate = '--tolerate-known' in sys.argv
    args = [a for a in sys.argv if a != '--tolerate-known']
    memory_mb = 2048
    for arg in list(args):
        if arg.startswith('--memory-mb='):
            memory_mb = int(arg.split('=', 1)[1])
            args.remove(arg)
    corpora = [Path(a) for a in args[1:] if not a.startswith('-')]
    if corpora and not corpora[0].is_file():  # a file argument means: run just these inputs
        write_seeds(corpora[0])
    # pypdf logs recoverable oddities at ERROR; with no handler they would flood stderr via logging.lastResort
    logging.getLogger('pypdf').addHandler(logging.NullHandler())
    atheris.instrument_all()  # pypdf, bloodq and the rest, loaded above
    limit_memory(memory_mb)
    atheris.Setup(args, tolerant_one_input if tolerate else test_one_input)
    atheris.Fuzz()


if __name__ == '__main__':
    main()
