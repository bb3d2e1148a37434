"""A deterministic corpus of malformed and hostile PDFs, each with the outcomes bloodq may reach.

``python tests/hostile/make_corpus.py OUT_DIR`` writes ``OUT_DIR/<name>.pdf`` for every case and
``OUT_DIR/manifest.json`` mapping each name to its acceptable outcomes. An outcome is one of

* ``completed`` -- the job was analysed normally;
* ``failed:<code>`` -- the job ended ``failed`` with that error code (``corrupt_pdf``, ``encrypted_pdf``,
  ``no_text_layer``, ``pdf_too_complex``, ...);
* ``rejected:<http status>:<code>`` -- the upload check refused the bytes with a 4xx JSON error.

Most files are written byte by byte (:class:`RawPdf`), so offsets, lengths and structure can be wrong on
purpose; the controls and encryption go through fpdf2 and pypdf. The output is the same on every run:
fpdf2 gets a fixed creation date and pypdf's encryption a seeded source of "random" bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import io
import json
import random
import secrets
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

__all__ = ['CASES', 'Case', 'RawPdf', 'generate', 'report_bytes']

COMPLETED = 'completed'
CORRUPT = 'failed:corrupt_pdf'
ENCRYPTED = 'failed:encrypted_pdf'
NO_TEXT = 'failed:no_text_layer'
TOO_COMPLEX = 'failed:pdf_too_complex'
NOT_A_PDF = 'rejected:415:not_a_pdf'
EMPTY = 'rejected:400:empty_file'

LINES = [
    'City Lab - Test Report',
    'Age: 45 Years   Sex: Female   Collected: 02/03/2024',
    'COMPLETE BLOOD COUNT',
    'Hemoglobin   11.2   g/dL   13.0 - 17.0',
    'Platelet Count   250   10^3/uL   150 - 410',
    'Glucose Fasting   92   mg/dL   70 - 100',
    'Creatinine   0.9   mg/dL   0.7 - 1.3',
]
FIXED_DATE = dt.datetime(2024, 3, 2, 9, 30, tzinfo=dt.UTC)


# --- a byte-level PDF writer ---------------------------------------------------------------


def text_content(lines: list[str] | None = None, font: bytes = b'/F1') -> bytes:
    """A content stream that shows ``lines`` top-down in ``font``."""
    ops = [b'BT ' + font + b' 11 Tf 14 TL 50 760 Td']
    for line in lines or LINES:
        escaped = line.replace('\\', '\\\\').replace('(', '\\(').replace(')', '\\)')
        ops.append(b'(' + escaped.encode('latin-1') + b') Tj T*')
    ops.append(b'ET')
    return b'\n'.join(ops)


def stream(entries: bytes, data: bytes, *, length: bytes | None = None, endstream: bool = True) -> bytes:
    """An object body ``<< entries /Length n >> stream ... endstream``."""
    size = str(len(data)).encode() if length is None else length
    tail = b'\nendstream' if endstream else b''
    return b'<< ' + entries + b' /Length ' + size + b' >>\nstream\n' + data + tail


class RawPdf:
    """Objects by number, written with a classic xref table (or none, or a wrong one, on purpose)."""

    def __init__(self, version: bytes = b'1.7') -> None:
        self.version = version
        self.objects: dict[int, bytes] = {}

    def set(self, num: int, body: bytes) -> RawPdf:
        self.objects[num] = body
        return self

    def add(self, body: bytes) -> int:
        num = max(self.objects, default=0) + 1
        self.objects[num] = body
        return num

    def render(self, *, trailer: bytes = b'/Root 1 0 R', xref: bool = True, startxref: bytes | None = None,
               offsets: Callable[[int, int], int] | None = None, endobj: bool = True) -> bytes:
        """The file. ``offsets(num, real)`` may lie in the xref; ``startxref`` may point anywhere."""
        out = io.BytesIO()
        out.write(b'%PDF-' + self.version + b'\n%\xe2\xe3\xcf\xd3\n')
        where: dict[int, int] = {}
        for num in sorted(self.objects):
            where[num] = out.tell()
            out.write(b'%d 0 obj\n' % num + self.objects[num] + (b'\nendobj\n' if endobj else b'\n'))
        size = max(self.objects, default=0) + 1
        xref_at = out.tell()
        if xref:
            out.write(b'xref\n0 %d\n0000000000 65535 f \n' % size)
            for num in range(1, size):
                if num in where:
                    at = offsets(num, where[num]) if offsets else where[num]
                    out.write(b'%010d 00000 n \n' % at)
                else:
                    out.write(b'0000000000 65535 f \n')
        out.write(b'trailer\n<< /Size %d ' % size + trailer + b' >>\n')
        out.write(b'startxref\n' + (startxref if startxref is not None else str(xref_at).encode()) + b'\n%%EOF\n')
        return out.getvalue()


def report_doc(*, catalog: bytes = b'', page: bytes = b'', content: bytes | None = None,
               resources: bytes = b'/Font << /F1 4 0 R >>') -> RawPdf:
    """A valid one-page report: 1 catalog, 2 pages, 3 page, 4 font, 5 content."""
    doc = RawPdf()
    doc.set(1, b'<< /Type /Catalog /Pages 2 0 R ' + catalog + b'>>')
    doc.set(2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>')
    doc.set(3, b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << ' + resources
            + b' >> /Contents 5 0 R ' + page + b'>>')
    doc.set(4, b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>')
    doc.set(5, stream(b'', text_content() if content is None else content))
    return doc


def report_bytes() -> bytes:
    """The valid raw report every mutation starts from."""
    return report_doc().render()


def fpdf_report(pages: int = 1) -> bytes:
    """A valid report made by fpdf2 (compressed streams, as real generators write them)."""
    pdf = FPDF()
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_font('Helvetica', size=11)
    for _ in range(pages):
        pdf.add_page()
        for line in LINES:
            pdf.cell(0, 7, line, new_x='LMARGIN', new_y='NEXT')
    return bytes(pdf.output())


def zero_deflate(n_mib: int) -> bytes:
    """A zlib stream of ``n_mib`` MiB of zero bytes, built without compressing them all.

    Each MiB is deflated after a full flush, so every block is the same bytes; the Adler-32 of
    ``n`` zeros is ``(n mod 65521) << 16 | 1``.
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    mib = bytes(1 << 20)
    block = comp.compress(mib) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(mib) + comp.flush(zlib.Z_FULL_FLUSH)
    assert block == again
    adler = (((n_mib << 20) % 65521) << 16) | 1
    return b'\x78\xda' + block * n_mib + comp.flush() + struct.pack('>I', adler)


@contextlib.contextmanager
def seeded_secrets(seed: int) -> Iterator[None]:
    """pypdf draws its file IDs, salts and AES IVs from ``secrets.token_bytes``: make them repeatable."""
    rng = random.Random(seed)
    original = secrets.token_bytes
    secrets.token_bytes = lambda n=32: rng.randbytes(n or 32)  # type: ignore[assignment]
    try:
        yield
    finally:
        secrets.token_bytes = original  # type: ignore[assignment]


def encrypt(data: bytes, user: str, algorithm: str, seed: int) -> bytes:
    with seeded_secrets(seed):
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
        writer.encrypt(user_password=user, owner_password='owner-secret', algorithm=algorithm)
        out = io.BytesIO()
        writer.write(out)
    return out.getvalue()


# --- the cases -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    build: Callable[[], bytes]
    expect: frozenset[str]
    why: str


CASES: list[Case] = []


def case(*expect: str) -> Callable[[Callable[[], bytes]], Callable[[], bytes]]:
    """Register a builder; its name (``_`` -> ``-``) is the file name, its docstring the reason."""

    def register(fn: Callable[[], bytes]) -> Callable[[], bytes]:
        CASES.append(Case(fn.__name__.strip('_'), fn, frozenset(expect), ' '.join((fn.__doc__ or '').split())))
        return fn

    return register


# controls


@case(COMPLETED)
def control_raw() -> bytes:
    """The valid hand-written report every mutation below starts from."""
    return report_bytes()


@case(COMPLETED)
def control_fpdf() -> bytes:
    """A valid fpdf2 report with Flate-compressed streams."""
    return fpdf_report()


# truncation


@case(CORRUPT)
def truncated_header_only() -> bytes:
    """Only the 15-byte header survived."""
    return report_bytes()[:15]


@case(CORRUPT)
def truncated_in_catalog() -> bytes:
    """Cut inside the first object: no page tree, no xref."""
    data = report_bytes()
    return data[: data.index(b'/Pages 2 0 R') + 4]


@case(CORRUPT, NO_TEXT)
def truncated_in_content() -> bytes:
    """Cut inside the page's content stream: the page may be found but its text is gone."""
    data = report_bytes()
    return data[: data.index(b'Hemoglobin')]


@case(COMPLETED, CORRUPT)
def truncated_before_xref() -> bytes:
    """Every object is there, the xref, trailer and startxref are not (readers may rebuild)."""
    data = report_bytes()
    return data[: data.index(b'xref')]


@case(COMPLETED, CORRUPT)
def truncated_in_xref() -> bytes:
    """Cut in the middle of the xref table."""
    data = report_bytes()
    at = data.index(b'xref')
    return data[: at + (len(data) - at) // 2]


@case(COMPLETED, CORRUPT)
def truncated_no_eof() -> bytes:
    """The last 12 bytes are lost: part of the startxref number and the %%EOF marker."""
    return report_bytes()[:-12]


@case(CORRUPT, NO_TEXT, COMPLETED)
def truncated_fpdf_half() -> bytes:
    """An fpdf2 file cut in half, inside compressed data."""
    data = fpdf_report()
    return data[: len(data) // 2]


# xref and startxref


@case(COMPLETED, CORRUPT)
def xref_missing() -> bytes:
    """No xref table at all; the trailer and startxref are still there (pointing at the trailer)."""
    return report_doc().render(xref=False)


@case(COMPLETED, CORRUPT)
def startxref_zero() -> bytes:
    """startxref points at offset 0 (the header), not at an xref."""
    return report_doc().render(startxref=b'0')


@case(COMPLETED, CORRUPT)
def startxref_beyond_eof() -> bytes:
    """startxref points far past the end of the file."""
    return report_doc().render(startxref=b'9999999999')


@case(COMPLETED, CORRUPT)
def startxref_garbage() -> bytes:
    """startxref is followed by a word, not a number."""
    return report_doc().render(startxref=b'banana')


@case(COMPLETED, CORRUPT)
def xref_offsets_nowhere() -> bytes:
    """Every xref offset points 37 bytes after where its object really starts."""
    return report_doc().render(offsets=lambda num, real: real + 37)


@case(COMPLETED, CORRUPT)
def xref_offsets_past_eof() -> bytes:
    """Every xref offset points past the end of the file."""
    return report_doc().render(offsets=lambda num, real: 50_000_000 + num)


@case(COMPLETED, CORRUPT)
def xref_stream_broken() -> bytes:
    """A PDF 1.5 cross-reference stream with absurd /W widths and an /Index past /Size."""
    body = report_doc().render(xref=False).split(b'trailer')[0]
    xref_at = len(body)
    xref_obj = b'6 0 obj\n' + stream(b'/Type /XRef /Size 7 /W [9 99 1] /Index [0 100000000] /Root 1 0 R',
                                     bytes(range(256)) * 2) + b'\nendobj\n'
    return body + xref_obj + b'startxref\n%d\n%%%%EOF\n' % xref_at


# encryption


@case(ENCRYPTED)
def encrypted_user_password_aes128() -> bytes:
    """AES-128, opening needs the user password 'secret'."""
    return encrypt(report_bytes(), 'secret', 'AES-128', seed=1)


@case(ENCRYPTED)
def encrypted_user_password_rc4_40() -> bytes:
    """The oldest scheme, RC4 40-bit, with the user password 'secret'."""
    return encrypt(report_bytes(), 'secret', 'RC4-40', seed=2)


@case(COMPLETED)
def encrypted_empty_user_aes256() -> bytes:
    """AES-256 with an owner password only: the empty user password opens it, so it is analysed."""
    return encrypt(report_bytes(), '', 'AES-256', seed=3)


@case(COMPLETED)
def encrypted_empty_user_rc4_128() -> bytes:
    """RC4-128 with an owner password only: analysed normally."""
    return encrypt(report_bytes(), '', 'RC4-128', seed=4)


@case(ENCRYPTED)
def encrypted_unknown_handler() -> bytes:
    """/Encrypt names a security handler nobody implements (/Filter /Bogus /V 9)."""
    doc = report_doc()
    doc.set(6, b'<< /Filter /Bogus /V 9 /R 9 /Length 512 /O (x) /U (y) /P -4 >>')
    return doc.render(trailer=b'/Root 1 0 R /Encrypt 6 0 R /ID [<00112233445566778899aabbccddeeff> '
                              b'<00112233445566778899aabbccddeeff>]')


@case(ENCRYPTED)
def encrypted_unsupported_crypt_filter() -> bytes:
    """The Standard handler, V4, but its crypt filter names a method that does not exist (/CFM /Bogus)."""
    doc = report_doc()
    doc.set(6, b'<< /Filter /Standard /V 4 /R 4 /Length 128 /CF << /StdCF << /CFM /Bogus /Length 16 >> >> '
            b'/StmF /StdCF /StrF /StdCF /O <' + b'11' * 32 + b'> /U <' + b'22' * 32 + b'> /P -4 >>')
    return doc.render(trailer=b'/Root 1 0 R /Encrypt 6 0 R /ID [<00112233445566778899aabbccddeeff> '
                              b'<00112233445566778899aabbccddeeff>]')


# decompression bombs


@case(TOO_COMPLEX, CORRUPT)
def bomb_flate_content() -> bytes:
    """The content stream is 2 GiB of zeros deflated twice: about 5 KB on disk."""
    bomb = zlib.compress(zero_deflate(2048), 9)
    return report_doc(content=b'').set(5, stream(b'/Filter [/FlateDecode /FlateDecode]', bomb)).render()


@case(TOO_COMPLEX, CORRUPT)
def bomb_flate_single() -> bytes:
    """A single Flate layer inflating 2 MB to 2 GiB."""
    return report_doc().set(5, stream(b'/Filter /FlateDecode', zero_deflate(2048))).render()


@case(TOO_COMPLEX, CORRUPT, COMPLETED)
def bomb_flate_tounicode() -> bytes:
    """The font's ToUnicode CMap is a double-deflated 2 GiB bomb; the text itself is fine."""
    doc = report_doc()
    doc.set(4, b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>')
    doc.set(6, stream(b'/Filter [/FlateDecode /FlateDecode]', zlib.compress(zero_deflate(2048), 9)))
    return doc.render()


@case(COMPLETED, TOO_COMPLEX, CORRUPT)
def bomb_flate_image() -> bytes:
    """A 2 GiB image XObject bomb next to normal text (text extraction need not decode images)."""
    doc = report_doc(resources=b'/Font << /F1 4 0 R >> /XObject << /Im1 6 0 R >>',
                     content=text_content() + b'\nq 100 0 0 100 50 50 cm /Im1 Do Q')
    doc.set(6, stream(b'/Type /XObject /Subtype /Image /Width 65536 /Height 32768 /ColorSpace /DeviceGray '
                      b'/BitsPerComponent 8 /Filter [/FlateDecode /FlateDecode]',
                      zlib.compress(zero_deflate(2048), 9)))
    return doc.render()


@case(TOO_COMPLEX, CORRUPT)
def filter_chain_long() -> bytes:
    """The report text under a chain of 24 FlateDecode filters."""
    data = text_content()
    for _ in range(24):
        data = zlib.compress(data, 9)
    return report_doc().set(5, stream(b'/Filter [' + b'/FlateDecode ' * 24 + b']', data)).render()


@case(TOO_COMPLEX, CORRUPT, NO_TEXT)
def flate_predictor_huge_columns() -> bytes:
    """The content stream asks for a PNG predictor over 100000000 columns."""
    return report_doc().set(5, stream(b'/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 100000000 >>',
                                      zlib.compress(text_content(), 9))).render()


@case('failed:timeout', TOO_COMPLEX)
def cpu_bomb_text_ops() -> bytes:
    """40 pages share one 9 KB content stream of 300000 text-showing operators: minutes of CPU for pypdf,
    under all of its own limits, so only the job's time limit stops it."""
    doc = report_doc()
    pages = 40
    kids = b' '.join(b'%d 0 R' % (10 + i) for i in range(pages))
    doc.set(2, b'<< /Type /Pages /Kids [' + kids + b'] /Count %d >>' % pages)
    for i in range(pages):
        doc.set(10 + i, doc.objects[3])
    del doc.objects[3]
    ops = text_content() + b'\nBT /F1 1 Tf ' + b'(A) Tj\n' * 300_000 + b'ET'
    return doc.set(5, stream(b'/Filter /FlateDecode', zlib.compress(ops, 9))).render()


# page tree


@case(TOO_COMPLEX, COMPLETED)
def pages_claims_a_million() -> bytes:
    """/Count 1000000 over a single real page."""
    return report_doc().set(2, b'<< /Type /Pages /Kids [3 0 R] /Count 1000000 >>').render()


@case(CORRUPT, COMPLETED)
def pages_count_lies_small() -> bytes:
    """/Count 200 (under MAX_PAGES) over a single real page."""
    return report_doc().set(2, b'<< /Type /Pages /Kids [3 0 R] /Count 200 >>').render()


@case(CORRUPT, COMPLETED)
def pages_count_negative() -> bytes:
    """/Count -5 over a single real page."""
    return report_doc().set(2, b'<< /Type /Pages /Kids [3 0 R] /Count -5 >>').render()


@case(TOO_COMPLEX, CORRUPT, COMPLETED)
def pages_tree_deep() -> bytes:
    """The page sits under 3000 nested /Pages nodes."""
    doc = report_doc()
    depth = 3000
    first = 10
    doc.set(2, b'<< /Type /Pages /Kids [%d 0 R] /Count 1 >>' % first)
    for i in range(depth):
        num, parent = first + i, (first + i - 1 if i else 2)
        kid = first + i + 1 if i < depth - 1 else 3
        doc.set(num, b'<< /Type /Pages /Parent %d 0 R /Kids [%d 0 R] /Count 1 >>' % (parent, kid))
    doc.set(3, doc.objects[3].replace(b'/Parent 2 0 R', b'/Parent %d 0 R' % (first + depth - 1)))
    return doc.render()


@case(CORRUPT, TOO_COMPLEX, COMPLETED)
def pages_kids_cycle() -> bytes:
    """/Pages lists itself among its /Kids, after the real page."""
    return report_doc().set(2, b'<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>').render()


@case(CORRUPT, TOO_COMPLEX, COMPLETED)
def pages_kids_mutual_cycle() -> bytes:
    """Two /Pages nodes list each other as kids; the page hangs under the first."""
    doc = report_doc()
    doc.set(2, b'<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 3 >>')
    doc.set(6, b'<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 2 >>')
    return doc.render()


@case(COMPLETED, CORRUPT, TOO_COMPLEX)
def pages_parent_cycle() -> bytes:
    """The page inherits its MediaBox and Resources through a /Parent chain that loops."""
    doc = report_doc()
    doc.set(2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 /Parent 6 0 R >>')
    doc.set(6, b'<< /Type /Pages /Kids [2 0 R] /Count 1 /Parent 2 0 R >>')
    doc.set(3, b'<< /Type /Page /Parent 2 0 R /Contents 5 0 R >>')
    return doc.render()


@case(TOO_COMPLEX, COMPLETED)
def pages_kids_wide() -> bytes:
    """/Count 1 but /Kids lists the one page 200000 times."""
    return report_doc().set(2, b'<< /Type /Pages /Kids [' + b'3 0 R ' * 200_000 + b'] /Count 1 >>').render()


@case(CORRUPT)
def zero_pages() -> bytes:
    """A well-formed document with an empty page tree."""
    return report_doc().set(2, b'<< /Type /Pages /Kids [] /Count 0 >>').render()


@case(TOO_COMPLEX)
def many_pages_600() -> bytes:
    """600 valid text pages (sharing one content stream): more than MAX_PAGES."""
    doc = report_doc()
    pages = 600
    kids = b' '.join(b'%d 0 R' % (10 + i) for i in range(pages))
    doc.set(2, b'<< /Type /Pages /Kids [' + kids + b'] /Count %d >>' % pages)
    for i in range(pages):
        doc.set(10 + i, doc.objects[3])
    del doc.objects[3]
    return doc.render()


# recursion


@case(TOO_COMPLEX, CORRUPT, COMPLETED)
def nested_arrays_deep() -> bytes:
    """The page dictionary holds an array nested 50000 levels deep."""
    depth = 50_000
    return report_doc(page=b'/Junk ' + b'[' * depth + b'1' + b']' * depth + b' ').render()


@case(TOO_COMPLEX, CORRUPT, COMPLETED)
def nested_dicts_deep() -> bytes:
    """The catalog holds a dictionary nested 50000 levels deep."""
    depth = 50_000
    return report_doc(catalog=b'/Junk ' + b'<< /A ' * depth + b'1' + b' >>' * depth + b' ').render()


@case(TOO_COMPLEX, CORRUPT, COMPLETED, NO_TEXT)
def nested_arrays_in_content() -> bytes:
    """A TJ operand nested 50000 levels deep inside the content stream, after the report text."""
    depth = 50_000
    deep = b'BT /F1 11 Tf ' + b'[' * depth + b'(x)' + b']' * depth + b' TJ ET'
    return report_doc(content=text_content() + b'\n' + deep).render()


@case(TOO_COMPLEX, CORRUPT, NO_TEXT)
def indirect_chain_long() -> bytes:
    """/Contents is a reference to a reference to ... (20000 links) before the stream."""
    doc = report_doc()
    links = 20_000
    doc.set(3, doc.objects[3].replace(b'/Contents 5 0 R', b'/Contents 10 0 R'))
    for i in range(links):
        doc.set(10 + i, b'%d 0 R' % (11 + i if i < links - 1 else 5))
    return doc.render()


@case(CORRUPT, NO_TEXT, TOO_COMPLEX)
def indirect_self_reference() -> bytes:
    """/Contents is object 6, whose body is ``6 0 R``."""
    doc = report_doc()
    doc.set(3, doc.objects[3].replace(b'/Contents 5 0 R', b'/Contents 6 0 R'))
    doc.set(6, b'6 0 R')
    return doc.render()


@case(COMPLETED, TOO_COMPLEX, CORRUPT)
def xobject_draws_itself() -> bytes:
    """A form XObject whose content invokes itself: endless recursion for a naive reader."""
    doc = report_doc(resources=b'/Font << /F1 4 0 R >> /XObject << /Fx 6 0 R >>',
                     content=text_content() + b'\n/Fx Do')
    doc.set(6, stream(b'/Type /XObject /Subtype /Form /BBox [0 0 612 792] '
                      b'/Resources << /Font << /F1 4 0 R >> /XObject << /Fx 6 0 R >> >>',
                      b'BT /F1 9 Tf 50 100 Td (loop) Tj ET /Fx Do'))
    return doc.render()


@case(COMPLETED, CORRUPT, TOO_COMPLEX)
def outline_cycle() -> bytes:
    """The outline's first item is its own /Next (and /First), an endless list."""
    doc = report_doc(catalog=b'/Outlines 6 0 R /PageMode /UseOutlines ')
    doc.set(6, b'<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>')
    doc.set(7, b'<< /Title (Results) /Parent 6 0 R /First 7 0 R /Next 7 0 R /Prev 7 0 R /Dest [3 0 R /Fit] >>')
    return doc.render()


# images and fonts


@case(COMPLETED)
def image_giant_dimensions() -> bytes:
    """An image XObject that claims 100000 x 100000 pixels and holds 16 bytes, beside the text."""
    doc = report_doc(resources=b'/Font << /F1 4 0 R >> /XObject << /Im1 6 0 R >>',
                     content=text_content() + b'\nq 200 0 0 200 50 50 cm /Im1 Do Q')
    doc.set(6, stream(b'/Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceRGB '
                      b'/BitsPerComponent 8', bytes(16)))
    return doc.render()


@case(NO_TEXT)
def image_only_page() -> bytes:
    """A scanned page: one 64x64 greyscale image and no text operators."""
    doc = report_doc(resources=b'/XObject << /Im1 6 0 R >>', content=b'q 500 0 0 700 50 50 cm /Im1 Do Q')
    pixels = bytes((x * 4 + y) % 256 for y in range(64) for x in range(64))
    doc.set(6, stream(b'/Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray '
                      b'/BitsPerComponent 8 /Filter /FlateDecode', zlib.compress(pixels, 9)))
    return doc.render()


@case(NO_TEXT)
def image_only_giant() -> bytes:
    """The only thing on the page is a 100000 x 100000 image with 16 bytes of data."""
    doc = report_doc(resources=b'/XObject << /Im1 6 0 R >>', content=b'q 500 0 0 700 50 50 cm /Im1 Do Q')
    doc.set(6, stream(b'/Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceRGB '
                      b'/BitsPerComponent 8', bytes(16)))
    return doc.render()


@case(COMPLETED, CORRUPT)
def font_fontfile_garbage() -> bytes:
    """A TrueType font whose embedded FontFile2 is 4 KB of seeded random bytes."""
    doc = report_doc()
    doc.set(4, b'<< /Type /Font /Subtype /TrueType /BaseFont /Garbled /FirstChar 32 /LastChar 126 '
            b'/Widths 7 0 R /FontDescriptor 6 0 R /Encoding /WinAnsiEncoding >>')
    doc.set(6, b'<< /Type /FontDescriptor /FontName /Garbled /Flags 32 /FontBBox [0 0 1000 1000] /ItalicAngle 0 '
            b'/Ascent 900 /Descent -200 /CapHeight 700 /StemV 80 /FontFile2 8 0 R >>')
    doc.set(7, b'[' + b' 500' * 95 + b' ]')
    doc.set(8, stream(b'/Length1 4096', random.Random(8).randbytes(4096)))
    return doc.render()


@case(COMPLETED, CORRUPT, NO_TEXT, TOO_COMPLEX)
def font_tounicode_garbage() -> bytes:
    """The font's ToUnicode CMap is half a CMap followed by seeded random bytes."""
    doc = report_doc()
    doc.set(4, b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>')
    cmap = (b'/CIDInit /ProcSet findresource begin 12 dict begin begincmap 1 begincodespacerange <00> <FF> '
            b'endcodespacerange 2 beginbfchar <41> <0042 0043> <4> <zz> endbfchar 1 beginbfrange <20> ')
    doc.set(6, stream(b'', cmap + random.Random(6).randbytes(2000)))
    return doc.render()


@case(COMPLETED, CORRUPT, TOO_COMPLEX)
def font_tounicode_huge_range() -> bytes:
    """The ToUnicode CMap maps a 4-byte range of 4 billion codes (<00000000> to <FFFFFFFF>)."""
    doc = report_doc()
    doc.set(4, b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>')
    cmap = (b'begincmap 1 begincodespacerange <00000000> <FFFFFFFF> endcodespacerange '
            b'1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange endcmap')
    doc.set(6, stream(b'', cmap))
    return doc.render()


@case(CORRUPT, COMPLETED, NO_TEXT)
def font_type0_no_descendants() -> bytes:
    """A Type0 (composite) font with no /DescendantFonts and an Identity-H encoding."""
    doc = report_doc()
    doc.set(4, b'<< /Type /Font /Subtype /Type0 /BaseFont /Broken /Encoding /Identity-H >>')
    return doc.render()


@case(CORRUPT, COMPLETED)
def font_missing_object() -> bytes:
    """/F1 refers to object 99, which does not exist."""
    return report_doc(resources=b'/Font << /F1 99 0 R >>').render()


# object streams


@case(CORRUPT, COMPLETED)
def objstm_invalid() -> bytes:
    """The font lives in an object stream whose header is nonsense (/N 3, /First past the end)."""
    doc = report_doc()
    body = b'4 0 banana 7 <<<< /Type /Font'
    doc.set(6, stream(b'/Type /ObjStm /N 3 /First 9999', body))
    head = doc.render(xref=False).split(b'trailer')[0]
    xref_at = len(head)
    rows = [(0, 0, 0)]
    where = {int(line.split()[0]): head.index(line) for line in (b'1 0 obj', b'2 0 obj', b'3 0 obj', b'5 0 obj',
                                                                  b'6 0 obj')}
    for num in range(1, 8):
        if num == 4:
            rows.append((2, 6, 0))  # object 4 is entry 0 of object stream 6
        elif num in where:
            rows.append((1, where[num], 0))
        else:
            rows.append((0, 0, 0))
    table = b''.join(struct.pack('>BIH', *row) for row in rows)
    xref_obj = b'7 0 obj\n' + stream(b'/Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R', table) + b'\nendobj\n'
    return head + xref_obj + b'startxref\n%d\n%%%%EOF\n' % xref_at


@case(CORRUPT, COMPLETED, TOO_COMPLEX)
def objstm_huge_n() -> bytes:
    """An object stream that claims /N 100000000 objects."""
    doc = report_doc()
    doc.set(6, stream(b'/Type /ObjStm /N 100000000 /First 10', b'8 0 9 10 ' + b'<< /A 1 >> ' * 4))
    doc.set(1, b'<< /Type /Catalog /Pages 2 0 R /Junk 8 0 R >>')
    return doc.render()


# streams and lengths


@case(TOO_COMPLEX, COMPLETED, CORRUPT)
def length_huge() -> bytes:
    """The content stream says /Length 999999999999."""
    return report_doc().set(5, stream(b'', text_content(), length=b'999999999999')).render()


@case(COMPLETED, CORRUPT)
def length_negative() -> bytes:
    """The content stream says /Length -100."""
    return report_doc().set(5, stream(b'', text_content(), length=b'-100')).render()


@case(COMPLETED, CORRUPT)
def length_missing_object() -> bytes:
    """/Length is a reference to object 77, which does not exist."""
    return report_doc().set(5, stream(b'', text_content(), length=b'77 0 R')).render()


@case(COMPLETED, CORRUPT, NO_TEXT)
def stream_without_endstream() -> bytes:
    """The content stream runs into the next object: no endstream, no endobj."""
    doc = report_doc()
    doc.set(5, stream(b'', text_content(), length=b'999999', endstream=False))
    return doc.render()


@case(COMPLETED, CORRUPT)
def nul_as_whitespace() -> bytes:
    """Every space outside the content stream is a NUL (PDF counts NUL as whitespace)."""
    data = report_bytes()
    start, end = data.index(b'stream\n') + 7, data.index(b'\nendstream')
    head, body, tail = data[:start], data[start:end], data[end:]
    return head[:15] + head[15:].replace(b' ', b'\0') + body + tail.replace(b' ', b'\0')


@case(CORRUPT)
def nul_flood() -> bytes:
    """A PDF header and then 2 MB of NUL bytes."""
    return b'%PDF-1.7\n' + bytes(2_000_000)


@case(COMPLETED, NO_TEXT, CORRUPT)
def content_random_operators() -> bytes:
    """The content stream is 20 KB of seeded random printable tokens and operators."""
    rng = random.Random(55)
    words = [b'BT', b'ET', b'Tj', b'TJ', b'Tf', b'Td', b'TD', b'Tm', b"'", b'"', b'q', b'Q', b'cm', b'Do', b'/F1',
             b'(', b')', b'[', b']', b'<<', b'>>', b'<4142>', b'(Hb 12)', b'1', b'-3.5', b'999999999999', b'/Fx']
    return report_doc(content=b' '.join(rng.choice(words) for _ in range(4000))).render()


# hostile text (the PDF is fine; what it says is not)


@case(COMPLETED, CORRUPT)
def text_lone_surrogates() -> bytes:
    """The font's ToUnicode CMap maps codes to lone UTF-16 surrogates (<D800>, <DFFF>), U+FFFF and U+0000."""
    doc = report_doc()
    doc.set(4, b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>')
    doc.set(6, stream(b'', b'/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /X def '
                      b'1 begincodespacerange <00> <FF> endcodespacerange 5 beginbfchar <41> <D800> <42> <D83DDCA9> '
                      b'<43> <FFFF> <44> <0000> <45> <DFFF> endbfchar endcmap end end'))
    # 'A' and 'E' come out as lone surrogates: in a value, a unit, an unknown test's name and free text
    lines = [*LINES[:3], 'Hemoglobin   AAA   g/dL   13.0 - 17.0', 'Glucose Fasting   92   mg/dLA   70 - 100',
             'ZorblAx LEvel   5.0   mg/dL   1.0 - 9.0', 'Comment: ABCDE ' * 5]
    return doc.set(5, stream(b'', text_content(lines))).render()


@case(COMPLETED)
def text_hostile_values() -> bytes:
    """Result values and ranges such as NaN, inf, 1e999, 1/0 and 29-digit numbers."""
    values = ['NaN', 'inf', '1e999', '-0', '9' * 29, '1/0', '-1e-400', '0x1F', '--5']
    rows = [f'Hemoglobin   {v}   g/dL   13.0 - 17.0' for v in values]
    rows += [f'Glucose Fasting   92   mg/dL   {v} - {v}' for v in values]
    return report_doc(content=text_content(LINES[:3] + rows)).render()


@case(COMPLETED)
def text_control_characters() -> bytes:
    """Text with NUL, ESC sequences, DEL, form feed, no-break and soft hyphens inside the result rows."""
    rows = ['Hemoglobin \x00\x01\x1b[31m 11.2 \x7f g/dL \x0c 13.0 - 17.0', '\u00a0\u00ad' * 50]
    return report_doc(content=text_content(LINES[:3] + rows)).render()


@case(COMPLETED)
def text_long_line() -> bytes:
    """One 200000-character number on a result line."""
    return report_doc(content=text_content([*LINES, 'Hemoglobin ' + '9' * 200_000 + ' g/dL'])).render()


@case(COMPLETED, TOO_COMPLEX)
def text_many_rows() -> bytes:
    """2000 result rows on one page: a big parse and a big rendered report."""
    rows = [f'Hemoglobin   {10 + i % 7}.{i % 10}   g/dL   13.0 - 17.0' for i in range(2000)]
    return report_doc(content=text_content(LINES[:3] + rows)).render()


# actions (must be ignored)


@case(COMPLETED)
def javascript_openaction() -> bytes:
    """/OpenAction runs JavaScript, the page has an /AA action and /Names holds more JavaScript."""
    doc = report_doc(catalog=b'/OpenAction 6 0 R /Names << /JavaScript << /Names [(init) 7 0 R] >> >> ',
                     page=b'/AA << /O 7 0 R >> ')
    doc.set(6, b'<< /Type /Action /S /JavaScript /JS (app.alert\\("pwned"\\); while\\(true\\){}) >>')
    doc.set(7, b'<< /Type /Action /S /JavaScript /JS 8 0 R >>')
    doc.set(8, stream(b'', b'this.exportDataObject({cName: "x", nLaunch: 2});'))
    return doc.render()


@case(COMPLETED)
def launch_and_uri_actions() -> bytes:
    """/OpenAction launches a program; a link annotation points to a URI and a remote GoTo."""
    doc = report_doc(catalog=b'/OpenAction << /S /Launch /F (C:\\\\Windows\\\\System32\\\\cmd.exe) /NewWindow true >> ',
                     page=b'/Annots [6 0 R 7 0 R] ')
    doc.set(6, b'<< /Type /Annot /Subtype /Link /Rect [0 0 612 792] /A << /S /URI /URI (http://127.0.0.1:1/x) >> >>')
    doc.set(7, b'<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /GoToR /F (\\\\\\\\host\\\\share\\\\x.pdf) '
            b'/D [0 /Fit] >> >>')
    return doc.render()


@case(COMPLETED)
def embedded_file_and_xfa() -> bytes:
    """An embedded executable attachment and an XFA form, beside a normal text layer."""
    doc = report_doc(catalog=b'/Names << /EmbeddedFiles << /Names [(run.exe) 6 0 R] >> >> '
                             b'/AcroForm << /Fields [] /XFA 8 0 R >> ')
    doc.set(6, b'<< /Type /Filespec /F (run.exe) /EF << /F 7 0 R >> >>')
    doc.set(7, stream(b'/Type /EmbeddedFile', b'MZ\x90\x00' + bytes(60)))
    doc.set(8, stream(b'', b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><!ENTITY x SYSTEM "file:///etc/passwd">'
                          b'</xdp:xdp>'))
    return doc.render()


# not PDFs at all (but with %PDF- in the first 1024 bytes, so the upload check lets them through)


@case(CORRUPT)
def html_with_magic() -> bytes:
    """An HTML page with a ``%PDF-1.4`` comment near the top."""
    return (b'<!DOCTYPE html>\n<!-- %PDF-1.4 -->\n<html><body><script>alert(1)</script>'
            + b'<p>Hemoglobin 11.2 g/dL</p>' * 50 + b'</body></html>\n')


@case(CORRUPT)
def zip_with_magic() -> bytes:
    """A ZIP archive whose first member is named ``%PDF-1.7.txt``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo('%PDF-1.7.txt', date_time=(2024, 3, 2, 9, 30, 0)), b'not a pdf\n' * 100)
        zf.writestr(zipfile.ZipInfo('word/document.xml', date_time=(2024, 3, 2, 9, 30, 0)), b'<w:document/>')
    return out.getvalue()


@case(CORRUPT)
def png_with_magic() -> bytes:
    """A real 16x16 PNG with a tEXt chunk holding ``%PDF-1.7``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))

    raw = b''.join(b'\x00' + bytes(range(16)) for _ in range(16))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 16, 16, 8, 0, 0, 0, 0))
            + chunk(b'tEXt', b'Comment\x00%PDF-1.7 trailer startxref') + chunk(b'IDAT', zlib.compress(raw))
            + chunk(b'IEND', b''))


@case(CORRUPT)
def pdf_header_then_garbage() -> bytes:
    """The PDF header and 64 KB of seeded random bytes."""
    return b'%PDF-1.7\n' + random.Random(99).randbytes(65536)


@case(NOT_A_PDF)
def magic_after_1024() -> bytes:
    """A valid report behind 2000 bytes of junk: ``%PDF-`` is too late for the upload check."""
    return b'x' * 2000 + report_bytes()


@case(NOT_A_PDF)
def plain_text() -> bytes:
    """A text file named .pdf, no PDF magic at all."""
    return '\n'.join(LINES).encode()


@case(EMPTY)
def empty_file() -> bytes:
    """Zero bytes."""
    return b''


# --- writing -------------------------------------------------------------------------------


def generate(out: Path) -> dict[str, dict[str, object]]:
    """Write every case and the manifest into ``out``; returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, object]] = {}
    for c in CASES:
        data = c.build()
        (out / f'{c.name}.pdf').write_bytes(data)
        manifest[c.name] = {'expect': sorted(c.expect), 'why': c.why, 'bytes': len(data),
                            'sha256': hashlib.sha256(data).hexdigest()}
    (out / 'manifest.json').write_text(json.dumps(manifest, indent=2, sort_keys=True) + '\n')
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', type=Path, help='directory to write the PDFs and manifest.json into')
    args = parser.parse_args()
    manifest = generate(args.out)
    for name, entry in manifest.items():
        print(f'{name:36} {entry["bytes"]:>9}  {", ".join(entry["expect"])}')  # type: ignore[arg-type]
    print(f'{len(manifest)} files in {args.out}')


if __name__ == '__main__':
    main()
