"""Coverage-guided fuzzing of the submit form parser, :func:`bloodq.api.upload.read_submission`.

An input is ``<Content-Type header value>\\n<request body>``: the first line (up to 300 bytes) becomes the
request's Content-Type, the rest its body, fed through a real :class:`aiohttp.StreamReader` into a
request made by :func:`aiohttp.test_utils.make_mocked_request`. The parser may refuse anything, but only
with a :class:`bloodq.errors.BloodqError` (which the API turns into a 4xx JSON answer); any other
exception is a finding. Limits are small (64 KB files) so the size checks are reachable.

Install atheris (a CPython 3.11 manylinux wheel, listed in requirements-dev.txt)::

    pip install atheris

Run (seed bodies missing from the corpus directory are written into it first; add ``--tolerate-known`` to
look past the findings already reported, listed in ``KNOWN``)::

    python fuzz/fuzz_upload.py /tmp/bloodq-fuzz/upload -max_total_time=120 -max_len=262144 -timeout=10 \\
        -artifact_prefix=/tmp/bloodq-fuzz/crash-upload-

``test_one_input`` is plain Python; tests/test_fuzz_smoke.py runs it over the seeds without atheris.
"""

from __future__ import annotations

import asyncio
import sys
import warnings
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiohttp import streams
from aiohttp.test_utils import make_mocked_request

from bloodq.api.upload import Submission, read_submission
from bloodq.config import Settings
from bloodq.errors import BloodqError

SETTINGS = Settings(max_upload_mb=1 / 16, upload_timeout_s=5.0)
BOUNDARY = 'fuzzb0undary'
PDF = b'%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'


def split_input(data: bytes) -> tuple[str, bytes]:
    """``(content type, body)`` from one fuzz input."""
    head, sep, body = data.partition(b'\n')
    if not sep or len(head) > 300:
        return f'multipart/form-data; boundary={BOUNDARY}', data
    return head.decode('latin-1').strip(), body


async def parse(content_type: str, body: bytes) -> Submission:
    protocol = mock.Mock(_reading_paused=False)
    payload = streams.StreamReader(protocol, 2**16, loop=asyncio.get_running_loop())
    payload.feed_data(body)
    payload.feed_eof()
    headers = {'Content-Type': content_type, 'Content-Length': str(len(body))}
    request = make_mocked_request('POST', '/analyze-async', headers=headers, payload=payload)
    return await read_submission(request, SETTINGS)


def test_one_input(data: bytes) -> None:
    """Parse one request; refusals must be bloodq errors, and an accepted form must hold a PDF."""
    content_type, body = split_input(data)
    try:
        submission = asyncio.run(parse(content_type, body))
    except BloodqError:
        return
    assert b'%PDF-' in submission.pdf[:1024]
    assert len(submission.pdf) <= SETTINGS.max_upload_bytes
    assert 0 < len(submission.file_name) <= 200


def part(name: str, data: bytes, *, filename: str | None = None, headers: bytes = b'') -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else '')
    return (f'--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n'.encode() + headers + b'\r\n' + data
            + b'\r\n')


def form(*parts: bytes, close: bool = True) -> bytes:
    body = b''.join(parts) + (f'--{BOUNDARY}--\r\n'.encode() if close else b'')
    return f'multipart/form-data; boundary={BOUNDARY}\n'.encode() + body


def seed_inputs() -> dict[str, bytes]:
    """Seed name -> input: valid forms and each kind of refusal the parser knows."""
    pdf_part = part('file', PDF, filename='report.pdf', headers=b'Content-Type: application/pdf\r\n')
    nested = (b'--inner\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n' + PDF
              + b'\r\n--inner--\r\n')
    return {
        'valid': form(pdf_part, part('query', b'Is my iron low?'), part('priority', b'high'),
                      part('callback', b'https://example.test/hook')),
        'valid_file_only': form(pdf_part),
        'valid_lf_only': form(pdf_part).replace(b'\r\n', b'\n'),
        'valid_preamble_epilogue': form(b'preamble text\r\n' + pdf_part) + b'epilogue\r\n',
        'valid_rfc5987_name': form(part('file', PDF, headers=b'', filename=None).replace(
            b'name="file"', b'name="file"; filename*=UTF-8\'\'r%C3%A9sultats%2F..%2F..%2Fetc%2Fpasswd.pdf')),
        'path_traversal_name': form(part('file', PDF, filename='..\\..\\C:\\evil\x07\u202e.pdf')),
        'base64_transfer': form(part('file', b'JVBERi0xLjcKJSVFT0YK', filename='b.pdf',
                                     headers=b'Content-Transfer-Encoding: base64\r\n')),
        'gzip_encoding': form(part('file', b'\x1f\x8b\x08\x00' + bytes(20), filename='g.pdf',
                                   headers=b'Content-Encoding: gzip\r\n')),
        'missing_file': form(part('query', b'hello')),
        'two_files': form(pdf_part, pdf_part),
        'unknown_field': form(pdf_part, part('evil', b'x')),
        'bad_priority': form(pdf_part, part('priority', b'urgent!!')),
        'empty_file': form(part('file', b'', filename='e.pdf')),
        'not_a_pdf': form(part('file', b'PK\x03\x04' + bytes(100), filename='z.pdf')),
        'too_large': form(part('file', PDF + bytes(70_000), filename='big.pdf')),
        'field_too_long': form(pdf_part, part('query', b'q' * 17_000)),
        'nested_multipart': form(part('file', nested, headers=b'Content-Type: multipart/mixed; boundary=inner\r\n')),
        'no_closing_boundary': form(pdf_part, close=False),
        'truncated_headers': form()[:-8] + b'--' + BOUNDARY.encode() + b'\r\nContent-Dispo',
        'no_disposition': f'multipart/form-data; boundary={BOUNDARY}\n--{BOUNDARY}\r\nX: y\r\n\r\n'.encode()
        + PDF + f'\r\n--{BOUNDARY}--\r\n'.encode(),
        'wrong_boundary': form(pdf_part).replace(f'--{BOUNDARY}'.encode(), b'--other'),
        'no_boundary_param': b'multipart/form-data\n' + form(pdf_part).split(b'\n', 1)[1],
        'not_multipart': b'application/pdf\n' + PDF,
        'urlencoded': b'application/x-www-form-urlencoded\nfile=%25PDF-1.7&query=x',
        'garbage': b'\x00\xff' * 64,
        # found by this harness (fuzz/RESULTS.md): an RFC 2231 parameter name with no value made
        # request.content_type raise IndexError, answered 500 internal
        'regress_content_type_param_star': b'multipart/form-data; boundary*\n' + form(pdf_part).split(b'\n', 1)[1],
    }


def write_seeds(directory: Path) -> None:
    """Add every seed the corpus directory lacks (what the fuzzer added, or changed, stays)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in seed_inputs().items():
        if not (directory / name).exists():
            (directory / name).write_bytes(data)


def _innermost_file(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename if tb is not None else ''


#: Findings already reported (fuzz/RESULTS.md), tolerated only with --tolerate-known so a run can look
#: past them for new ones. test_one_input itself (and so the smoke test) never tolerates them.
KNOWN = {
    'content-type-param-star': lambda exc: isinstance(exc, IndexError)
    and _innermost_file(exc).endswith('email/_header_value_parser.py'),
}


def tolerant_one_input(data: bytes) -> None:
    try:
        test_one_input(data)
    except Exception as exc:
        if not any(match(exc) for match in KNOWN.values()):
            raise


def main() -> None:
    import atheris

    args = [a for a in sys.argv if a != '--tolerate-known']
    corpora = [Path(a) for a in args[1:] if not a.startswith('-')]
    if corpora and not corpora[0].is_file():  # a file argument means: run just these inputs
        write_seeds(corpora[0])
    warnings.simplefilter('ignore')  # aiohttp warns once per odd Content-Disposition; not findings
    atheris.instrument_all()  # aiohttp's multipart reader and bloodq.api.upload, loaded above
    atheris.Setup(args, tolerant_one_input if len(args) < len(sys.argv) else test_one_input)
    atheris.Fuzz()


if __name__ == '__main__':
    main()
