"""Reading the multipart form of a submit: streamed, bounded, checked by content."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from bloodq.config import Settings
from bloodq.errors import BadRequest, PayloadTooLarge, Unprocessable
from bloodq.jobs import Priority

_TEXT_FIELDS = {'query': 4000, 'priority': 16, 'callback': 2048}
_CHUNK = 1024 * 1024
_MALFORMED = (ValueError, AssertionError, RuntimeError, LookupError, HttpProcessingError)
_PDF_MAGIC = b'%PDF-'


@dataclass(frozen=True, slots=True)
class Submission:
    """A validated submit form."""

    pdf: bytes
    file_name: str
    query: str
    priority: Priority
    callback: str


class UnsupportedMedia(BadRequest):
    """The upload is not a PDF."""

    code = 'not_a_pdf'
    status = 415


class UploadTimeout(BadRequest):
    """The upload did not arrive in time."""

    code = 'upload_timeout'
    status = 408


async def read_submission(request: web.Request, settings: Settings) -> Submission:
    """Parse the form within UPLOAD_TIMEOUT_S, so a slow or half-sent upload holds nothing for long."""
    try:
        async with asyncio.timeout(settings.upload_timeout_s):
            return await _read_form(request, settings)
    except TimeoutError:
        raise UploadTimeout(f'the upload did not complete within {settings.upload_timeout_s:g} s') from None
    except _MALFORMED as exc:  # aiohttp parses part headers lazily, so this can surface anywhere
        raise BadRequest('the multipart body is malformed', code='bad_multipart') from exc


async def _read_form(request: web.Request, settings: Settings) -> Submission:
    """Parse ``file`` (required), ``query``, ``priority`` and ``callback``; reject everything else with 4xx."""
    limit = settings.max_upload_bytes
    if request.content_length is not None and request.content_length > limit + 256 * 1024:
        raise PayloadTooLarge(f'the upload is larger than MAX_UPLOAD_MB={settings.max_upload_mb:g}')
    if not request.content_type.startswith('multipart/form-data'):
        raise BadRequest('send the report as multipart/form-data with a "file" field', code='not_multipart')
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError, KeyError) as exc:
        raise BadRequest('the multipart body could not be read', code='bad_multipart') from exc
    pdf: bytes | None = None
    file_name = ''
    texts: dict[str, str] = {}
    while True:
        part = await _next_part(reader)
        if part is None:
            break
        name = part.name or ''
        if name == 'file':
            if pdf is not None:
                raise BadRequest('send exactly one file', code='too_many_files')
            file_name = _clean_name(part.filename or 'report.pdf')
            pdf = await _read_bounded(part, limit)
        elif name in _TEXT_FIELDS:
            raw = await _read_bounded(part, _TEXT_FIELDS[name] * 4, field=name)
            texts[name] = raw.decode('utf-8', errors='replace').strip()[: _TEXT_FIELDS[name]]
        else:
            raise BadRequest(f'unknown form field {name[:40]!a}; allowed: file, query, priority, callback', code='unknown_field')
    if pdf is None:
        raise BadRequest('the form has no "file" field', code='missing_file')
    if not pdf:
        raise BadRequest('the uploaded file is empty', code='empty_file')
    if _PDF_MAGIC not in pdf[:1024]:
        raise UnsupportedMedia('the uploaded file is not a PDF')
    try:
        priority = Priority(texts.get('priority') or 'normal')
    except ValueError:
        raise Unprocessable('priority must be high, normal or low', code='bad_priority') from None
    return Submission(pdf, file_name, texts.get('query') or settings.default_query, priority,
                      texts.get('callback', ''))


async def _next_part(reader: MultipartReader) -> BodyPartReader | None:
    try:
        part = await reader.next()
    except (ValueError, AssertionError, RuntimeError) as exc:
        raise BadRequest('the multipart body is malformed', code='bad_multipart') from exc
    if part is None:
        return None
    if not isinstance(part, BodyPartReader):
        raise BadRequest('nested multipart bodies are not accepted', code='bad_multipart')
    return part


async def _read_bounded(part: BodyPartReader, limit: int, field: str = 'file') -> bytes:
    """Read a part chunk by chunk, refusing as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = await part.read_chunk(_CHUNK)
        except (ValueError, AssertionError, RuntimeError) as exc:
            raise BadRequest('the multipart body is malformed', code='bad_multipart') from exc
        if not chunk:
            return b''.join(chunks)
        size += len(chunk)
        if size > limit:
            if field == 'file':
                raise PayloadTooLarge(f'the upload is larger than MAX_UPLOAD_MB={limit / 1048576:g}')
            raise BadRequest(f'the field {field!r} is too long', code='field_too_long')
        chunks.append(chunk)


def _clean_name(name: str) -> str:
    """Keep the client's file name for display only: last path part, printable, bounded."""
    base = name.encode('utf-8', 'replace').decode('utf-8').replace('\\', '/').rsplit('/', 1)[-1]
    cleaned = ''.join(c for c in base if c.isprintable()).strip()
    return cleaned[:200] or 'report.pdf'
