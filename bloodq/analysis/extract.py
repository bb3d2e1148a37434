"""PDF bytes -> one text per page, with every failure mapped to a :mod:`bloodq.errors` type.

pypdf's plain ``extract_text()`` is used: its layout mode returns nothing for reports whose
content sits inside form XObjects (the Lal PathLabs sample is one), while plain mode reads them.
Each font is parsed once per document (:mod:`bloodq.analysis.pypdf_fonts`), not once per page.
The same pass records where each text fragment is drawn (pypdf's ``visitor_text``, which also sees
the fragments inside form XObjects): every page text is a :class:`~bloodq.analysis.layout.PageText`
carrying them, for pages whose drawing order is not their reading order.
No raw pypdf exception ever leaves this module.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from typing import Any

from bloodq.analysis.layout import Fragment, PageText, clean_text
from bloodq.analysis.pypdf_fonts import fonts_parsed_once
from bloodq.errors import BloodqError, CorruptPdf, EncryptedPdf, NoTextLayer, PdfTooComplex

__all__ = ['extract_pages', 'is_pdf_magic']

_MAGIC = b'%PDF-'
_HEAD = 1024


def is_pdf_magic(head: bytes) -> bool:
    """Whether ``%PDF-`` occurs within the first 1024 bytes (where readers accept it)."""
    return _MAGIC in head[:_HEAD]


def _open(pdf: bytes) -> object:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(pdf), strict=False)
    except NotImplementedError as exc:  # raised while reading /Encrypt: a security handler pypdf lacks
        raise EncryptedPdf('the PDF uses an encryption scheme that cannot be opened') from exc
    if reader.is_encrypted:
        try:
            # many "protected" reports only carry an owner password: the empty user password opens them
            opened = reader.decrypt('')
        except Exception as exc:  # unsupported cipher or a missing crypto backend
            raise EncryptedPdf() from exc
        if not opened:
            raise EncryptedPdf()
    return reader


def _over_limits(exc: BaseException) -> bool:
    """pypdf refused on one of its limits (decompression bombs, huge trees), or wrapped a MemoryError or
    RecursionError in its own read error."""
    from pypdf.errors import LimitReachedError

    seen: BaseException | None = exc
    for _ in range(8):  # causes are short chains; never follow a cycle
        if seen is None:
            return False
        if isinstance(seen, (LimitReachedError, MemoryError, RecursionError)):
            return True
        seen = seen.__cause__
    return False


@contextlib.contextmanager
def _text_streams_only() -> Iterator[None]:
    """Within the block, pypdf skips content streams with no text operator even though a visitor is set.

    Any visitor makes pypdf parse every content stream, logos and charts drawn as form XObjects
    included, so that operator visitors see them; ``visitor_text`` (all we pass) is only ever called for
    text, and a stream without ``Tj``/``TJ``/``'``/``"``/``Do`` has none. This reaches into pypdf
    (``pypdf._text_extraction._get_content_stream_for_text``, pypdf 7); without it nothing changes.
    """
    try:
        from pypdf import _text_extraction as module
    except ImportError:
        yield
        return
    original = getattr(module, '_get_content_stream_for_text', None)
    if original is None:
        yield
        return

    def streams(obj: Any, pdf: Any, content_key: Any, *, has_visitor: bool) -> Any:
        return original(obj, pdf, content_key, has_visitor=False)

    module._get_content_stream_for_text = streams
    try:
        yield
    finally:
        module._get_content_stream_for_text = original


def _page_text(page: Any) -> PageText:
    """The page's plain text and its upright text fragments with their positions, from one extraction."""
    frags: list[Fragment] = []
    add = frags.append

    def visit(text: str, cm: list[float], tm: list[float], font: object, font_size: float) -> None:
        if not text or text.isspace():  # pypdf reports line ends and empty flushes too
            return
        # text matrix x current matrix: where the fragment starts on the page, and its scale
        a, b = tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]
        if a <= 0 or abs(b) > 0.1 * a:
            return  # rotated or mirrored text (watermarks, vertical labels) is not part of a table row
        d = tm[2] * cm[1] + tm[3] * cm[3]
        add((tm[4] * cm[0] + tm[5] * cm[2] + cm[4], tm[4] * cm[1] + tm[5] * cm[3] + cm[5],
             abs(font_size * d), text))

    return PageText(clean_text(page.extract_text(visitor_text=visit) or ''), tuple(frags))


def extract_pages(pdf: bytes, *, max_pages: int = 500) -> list[str]:
    """The text of every page, in order (each a :class:`PageText` with its positioned fragments).

    Raises :class:`CorruptPdf` (not a PDF, truncated, unreadable), :class:`EncryptedPdf`
    (needs a password, or an unsupported encryption scheme), :class:`PdfTooComplex` (more than
    ``max_pages`` pages, too deep to read, or over one of pypdf's limits such as a decompression
    bomb) and :class:`NoTextLayer` (images only, e.g. a scan).
    """
    if not is_pdf_magic(pdf[:_HEAD]):
        raise CorruptPdf('not a PDF file')
    logging.getLogger('pypdf').setLevel(logging.ERROR)  # pypdf logs every recoverable oddity
    try:
        with warnings.catch_warnings(), fonts_parsed_once(), _text_streams_only():
            warnings.simplefilter('ignore')
            reader = _open(pdf)
            pages = reader.pages  # type: ignore[attr-defined]
            count = len(pages)
            if count == 0:
                raise CorruptPdf('the PDF has no pages')
            if count > max_pages:
                raise PdfTooComplex(f'the PDF has {count} pages; the limit is {max_pages}')
            texts: list[str] = [_page_text(page) for page in pages]
    except BloodqError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise PdfTooComplex('the PDF is too complex to read') from exc
    except Exception as exc:
        if _over_limits(exc):
            raise PdfTooComplex('the PDF exceeds the reading limits (size, depth or decompressed length)') from exc
        raise CorruptPdf('the PDF is corrupt or truncated') from exc
    if not any(t.strip() for t in texts):
        raise NoTextLayer('scanned report, no text layer')
    return texts
