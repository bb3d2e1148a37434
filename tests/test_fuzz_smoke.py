"""The fuzz harnesses' test-one-input functions, run over their seeds as plain Python (no atheris needed).

This keeps fuzz/fuzz_pdf.py and fuzz/fuzz_upload.py importable and their seeds passing, so a later
coverage-guided run starts from a working harness.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / 'fuzz'))

import fuzz_pdf
import fuzz_upload

PDF_SEEDS = fuzz_pdf.seed_inputs()
UPLOAD_SEEDS = fuzz_upload.seed_inputs()


def test_harness_seed_sets_are_substantial() -> None:
    """Both harnesses start from real seeds: the hostile corpus and tests/pdfs.py, and every form refusal."""
    assert len(PDF_SEEDS) >= 30 and any(n.startswith('pdfs-') for n in PDF_SEEDS)
    assert len(UPLOAD_SEEDS) >= 20


@pytest.mark.parametrize('name', sorted(PDF_SEEDS))
def test_pdf_harness_accepts_seed(name: str) -> None:
    """extract_pages + parse_report raise nothing but JobFailure (or MemoryError/RecursionError) on each seed."""
    fuzz_pdf.test_one_input(PDF_SEEDS[name])


@pytest.mark.parametrize('name', sorted(UPLOAD_SEEDS))
def test_upload_harness_accepts_seed(name: str) -> None:
    """read_submission accepts the seed or refuses it with a BloodqError, never another exception."""
    fuzz_upload.test_one_input(UPLOAD_SEEDS[name])


def test_upload_harness_really_parses_a_valid_form() -> None:
    """The upload harness's valid seed is accepted (so the harness reaches past the refusals)."""
    content_type, body = fuzz_upload.split_input(UPLOAD_SEEDS['valid'])
    submission = asyncio.run(fuzz_upload.parse(content_type, body))
    assert submission.pdf == fuzz_upload.PDF and submission.query == 'Is my iron low?'
    assert submission.priority.value == 'high'


def test_pdf_harness_flags_foreign_exceptions(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception that is not a JobFailure escapes test_one_input, so atheris would report it."""

    def broken(pages: list[str]) -> None:
        raise KeyError('bug')

    monkeypatch.setattr(fuzz_pdf, 'parse_report', broken)
    with pytest.raises(KeyError):
        fuzz_pdf.test_one_input(PDF_SEEDS['pdfs-simple_report'])


def test_write_seeds_adds_missing_seeds_and_keeps_the_rest(tmp_path: Path) -> None:
    """write_seeds writes each seed byte for byte, and never overwrites a unit already in the corpus."""
    corpus = tmp_path / 'upload'
    fuzz_upload.write_seeds(corpus)
    assert {p.name: p.read_bytes() for p in corpus.iterdir()} == UPLOAD_SEEDS
    (corpus / 'valid').write_bytes(b'grown')
    (corpus / 'garbage').unlink()
    fuzz_upload.write_seeds(corpus)
    assert (corpus / 'valid').read_bytes() == b'grown'
    assert (corpus / 'garbage').read_bytes() == UPLOAD_SEEDS['garbage']
