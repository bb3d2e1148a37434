"""PDF text extraction: pages come out in order, and every failure is a bloodq error."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest_reports import SHARED_PDF, report_fixtures, require_shared_report, shared_pages  # noqa: F401
from fpdf import FPDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from bloodq.analysis.extract import extract_pages, is_pdf_magic
from bloodq.errors import BloodqError, CorruptPdf, EncryptedPdf, NoTextLayer, PdfTooComplex


def _pdf(pages: int = 1, text: str | None = 'Hemoglobin 14.2 g/dL 13.0 - 17.0') -> bytes:
    pdf = FPDF()
    for i in range(pages):
        pdf.add_page()
        if text is None:
            pdf.rect(20, 20, 50, 30, style='F')  # a page that only holds a drawing, like a scan
        else:
            pdf.set_font('Helvetica', size=10)
            pdf.cell(0, 10, f'{text} page {i + 1}')
    return bytes(pdf.output())


def _encrypt(data: bytes, user: str, owner: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user, owner, algorithm='RC4-128')
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_magic_detection() -> None:
    """``%PDF-`` counts anywhere in the first 1024 bytes and nowhere after."""
    assert is_pdf_magic(b'%PDF-1.7\n')
    assert is_pdf_magic(b'\x00' * 100 + b'%PDF-1.4')
    assert not is_pdf_magic(b'\x00' * 1024 + b'%PDF-1.4')
    assert not is_pdf_magic(b'PK\x03\x04 a zip file')
    assert not is_pdf_magic(b'')


def test_pages_in_order() -> None:
    """One text per page, in page order."""
    pages = extract_pages(_pdf(3))
    assert len(pages) == 3
    assert [p.strip().endswith(f'page {i}') for i, p in enumerate(pages, 1)] == [True] * 3


def test_shared_report_has_ten_pages() -> None:
    """The real sample report extracts ten pages with its first result row on page 1."""
    require_shared_report()
    pages = extract_pages(SHARED_PDF.read_bytes())
    assert len(pages) == 10
    assert 'Hemoglobin' in pages[0]


def test_fixture_pdfs_extract(report_fixtures: dict[str, Path]) -> None:  # noqa: F811
    """Every generated layout is readable text."""
    for truth in report_fixtures.values():
        pages = extract_pages(truth.with_name(truth.name.replace('.truth.json', '.pdf')).read_bytes())
        assert pages and all(p.strip() for p in pages)


def test_not_a_pdf() -> None:
    """Bytes without the PDF magic are CorruptPdf."""
    with pytest.raises(CorruptPdf):
        extract_pages(b'hello, this is a text file')


@pytest.mark.parametrize('fraction', [0.2, 0.5, 0.9, 0.99])
def test_truncated_pdf(fraction: float) -> None:
    """A PDF cut short is CorruptPdf, never a pypdf exception."""
    data = _pdf(2)
    with pytest.raises(CorruptPdf):
        extract_pages(data[: int(len(data) * fraction)])


def test_garbage_after_magic() -> None:
    """A PDF header followed by garbage is CorruptPdf."""
    with pytest.raises(CorruptPdf):
        extract_pages(b'%PDF-1.4\n' + bytes(range(256)) * 8)


def test_encrypted_with_password() -> None:
    """A PDF that needs a user password is EncryptedPdf."""
    with pytest.raises(EncryptedPdf):
        extract_pages(_encrypt(_pdf(), 'secret', 'owner'))


def test_encrypted_with_empty_user_password_opens() -> None:
    """Owner-password-only protection opens with the empty password and extracts normally."""
    pages = extract_pages(_encrypt(_pdf(), '', 'owner'))
    assert 'Hemoglobin' in pages[0]


def test_image_only_pdf() -> None:
    """No text on any page is NoTextLayer with the documented message."""
    with pytest.raises(NoTextLayer, match='scanned report, no text layer'):
        extract_pages(_pdf(2, text=None))


def test_too_many_pages() -> None:
    """More pages than max_pages is PdfTooComplex; at the limit it is fine."""
    data = _pdf(4)
    assert len(extract_pages(data, max_pages=4)) == 4
    with pytest.raises(PdfTooComplex):
        extract_pages(data, max_pages=3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_pdfs_raise_only_bloodq_errors(data: st.DataObject) -> None:
    """Random byte damage to a valid PDF either still extracts or raises a BloodqError."""
    original = bytearray(_pdf())
    for _ in range(data.draw(st.integers(1, 20))):
        pos = data.draw(st.integers(0, len(original) - 1))
        original[pos] = data.draw(st.integers(0, 255))
    try:
        pages = extract_pages(bytes(original))
    except BloodqError:
        return
    assert isinstance(pages, list)


def test_each_font_is_parsed_once_per_document_with_the_same_text() -> None:
    """Within fonts_parsed_once, pypdf builds one Font per font dictionary, not one per page; text is unchanged."""
    from pypdf.generic._font import Font

    from bloodq.analysis.pypdf_fonts import fonts_parsed_once

    data = _pdf(pages=6)
    original = Font.__dict__['from_font_resource']
    built: list[object] = []

    def counting(cls: type, font_dict: object) -> object:
        built.append(font_dict)
        return original.__func__(cls, font_dict)

    Font.from_font_resource = classmethod(counting)
    try:
        plain = [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]
        per_page = len(built)
        built.clear()
        with fonts_parsed_once():
            shared = [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]
        assert Font.__dict__['from_font_resource'].__func__ is counting  # put back as it was
    finally:
        Font.from_font_resource = original
    assert shared == plain and per_page == 6 and len(built) == 1


def test_pages_carry_positioned_fragments_and_the_same_plain_text() -> None:
    """The same pass records each fragment with its position (top of the page has the larger y); the text is
    exactly pypdf's plain text."""
    from bloodq.analysis.layout import PageText

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font('Helvetica', size=10)
    pdf.set_xy(120, 40)
    pdf.cell(20, 5, '14.2')  # drawn first, read second
    pdf.set_xy(20, 40)
    pdf.cell(40, 5, 'Hemoglobin')
    pdf.set_xy(20, 20)
    pdf.cell(40, 5, 'TOP LINE')
    with pdf.rotation(90, 100, 150):
        pdf.text(100, 150, 'WATERMARK')
    data = bytes(pdf.output())
    page = extract_pages(data)[0]
    assert isinstance(page, PageText)
    assert page == PdfReader(io.BytesIO(data)).pages[0].extract_text()
    texts = [f[3].strip() for f in page.fragments]
    assert texts == ['14.2', 'Hemoglobin', 'TOP LINE']  # drawing order; rotated text left out
    (x_value, y_value, size, _), (x_name, y_name, _, _), (_, y_top, _, _) = page.fragments
    assert x_name < x_value and abs(y_name - y_value) < 1 and y_top > y_name and abs(size - 10) < 0.01


def test_fragments_include_form_xobject_content(shared_pages: list[str]) -> None:  # noqa: F811
    """The sample draws its results inside form XObjects: the fragments still hold them."""
    fragments = ' '.join(f[3] for f in shared_pages[0].fragments)  # type: ignore[attr-defined]
    assert 'Hemoglobin' in fragments


def test_text_free_streams_are_skipped_and_pypdf_is_left_as_it_was() -> None:
    """With our text visitor, pypdf still skips streams without text operators; its function is restored after."""
    from pypdf import _text_extraction

    original = _text_extraction._get_content_stream_for_text
    seen: list[bool] = []

    def spy(obj: object, pdf: object, key: object, *, has_visitor: bool) -> object:
        seen.append(has_visitor)
        return original(obj, pdf, key, has_visitor=has_visitor)

    _text_extraction._get_content_stream_for_text = spy
    try:
        assert 'Hemoglobin' in extract_pages(_pdf())[0]
        assert _text_extraction._get_content_stream_for_text is spy  # put back as it was
    finally:
        _text_extraction._get_content_stream_for_text = original
    assert seen and not any(seen)
