"""Fixtures for the extraction/parsing tests: generated report PDFs and the shared real report.

Import the fixtures into a test module with ``from conftest_reports import ...`` (pytest only
auto-loads ``conftest.py``, which is owned elsewhere).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / 'shared' / 'data'
SHARED_PDF = SHARED_DATA / 'blood_test_report.pdf'
SHARED_TRUTH = SHARED_DATA / 'blood_test_report.truth.json'
sys.path.insert(0, str(Path(__file__).resolve().parent / 'fixtures'))

from make_reports import generate


def require_shared_report() -> Path:
    """The shared real report's truth file; skipped only outside CI when ``../shared`` is absent."""
    if not SHARED_TRUTH.is_file() or not SHARED_PDF.is_file():
        if os.environ.get('CI'):
            pytest.fail(f'{SHARED_DATA} is missing in CI')
        pytest.skip('../shared/data is absent')
    return SHARED_TRUTH


@pytest.fixture(scope='session')
def report_fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every generated layout: layout id -> truth JSON path (the PDF sits beside it)."""
    out = tmp_path_factory.mktemp('reports')
    return {p.name.removesuffix('.truth.json'): p for p in generate(out)}


@pytest.fixture(scope='session')
def shared_pages() -> list[str]:
    """The shared real report's page texts."""
    from bloodq.analysis.extract import extract_pages

    require_shared_report()
    return extract_pages(SHARED_PDF.read_bytes())
