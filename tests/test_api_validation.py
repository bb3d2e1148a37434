"""Bad input gets a clear 4xx JSON error, through a real socket, and never a 5xx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from pdfs import simple_report
from procs import get_json, submit

from bloodq.api.app import create_app
from bloodq.config import Settings


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[str]:
    """The API app with the memory backend and no workers, listening on a free port."""
    app = create_app(Settings.from_env({}, **{**_fields(settings), 'queue_backend': 'memory',
                                              'embedded_workers': 0, 'max_upload_mb': 0.05}))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f'http://127.0.0.1:{port}'
    await runner.cleanup()


def _fields(settings: Settings) -> dict[str, object]:
    return {f: getattr(settings, f) for f in settings.__dataclass_fields__}


def _is_error(body: dict[str, object], code: str) -> bool:
    error = body.get('error')
    return isinstance(error, dict) and error.get('code') == code and bool(error.get('message'))


async def test_accepts_a_pdf_with_the_original_response_shape(api: str) -> None:
    """A valid upload answers 202 with the original client's fields."""
    async with aiohttp.ClientSession() as http:
        status, body = await submit(http, api, simple_report(), query='How is my sugar?')
        assert status == 202
        for key in ('job_id', 'request_id', 'message', 'estimated_processing_time', 'position_in_queue',
                    'estimated_completion'):
            assert key in body
        assert body['status'] == 'queued' and body['status_url'] == f'/status/{body["job_id"]}'
        assert body['file_processed'] == 'report.pdf' and body['position_in_queue'] == 1
        info = body['processing_info']
        assert info['mode'] == 'asynchronous' and info['file_size_bytes'] == len(simple_report())
        status, job = await get_json(http, f'{api}/status/{body["job_id"]}')
        assert status == 200 and job['status'] == 'queued' and job['attempts'] == 0
        assert job['created_at'].endswith('Z') and job['updated_at'].endswith('Z')


@pytest.mark.parametrize(('form', 'status', 'code'), [
    ({'query': 'no file here'}, 400, 'missing_file'),
    ({'file': b''}, 400, 'empty_file'),
    ({'file': b'hello, not a pdf'}, 415, 'not_a_pdf'),
    ({'file': b'%PDF-1.4' + b'x' * 80_000}, 413, 'file_too_large'),
    ({'file': b'%PDF-1.4 tiny', 'colour': 'blue'}, 400, 'unknown_field'),
    ({'file': b'%PDF-1.4 tiny', 'priority': 'urgent'}, 422, 'bad_priority'),
    ({'file': b'%PDF-1.4 tiny', 'query': 'x' * 50_000}, 400, 'field_too_long'),
])
async def test_bad_forms_get_a_named_4xx(api: str, form: dict[str, object], status: int, code: str) -> None:
    """Each malformed submit names its problem in a JSON error with a 4xx status."""
    data = aiohttp.FormData(default_to_multipart=True)
    for key, value in form.items():
        if key == 'file':
            data.add_field('file', value, filename='r.pdf', content_type='application/pdf')
        else:
            data.add_field(key, value)
    async with aiohttp.ClientSession() as http, http.post(f'{api}/analyze-async', data=data) as r:
        body = await r.json()
        assert r.status == status and _is_error(body, code), body


async def test_two_files_are_refused(api: str) -> None:
    """At most one file per submit."""
    data = aiohttp.FormData()
    data.add_field('file', simple_report(), filename='a.pdf')
    data.add_field('file', simple_report(), filename='b.pdf')
    async with aiohttp.ClientSession() as http, http.post(f'{api}/analyze-async', data=data) as r:
        assert r.status == 400 and _is_error(await r.json(), 'too_many_files')


@pytest.mark.parametrize('body', [b'', b'{"file": "x"}', b'file=abc'])
async def test_non_multipart_bodies_are_refused(api: str, body: bytes) -> None:
    """JSON, urlencoded and empty bodies are a 400 not_multipart."""
    async with aiohttp.ClientSession() as http, http.post(f'{api}/analyze-async', data=body) as r:
        assert r.status == 400 and _is_error(await r.json(), 'not_multipart')


async def test_broken_multipart_is_a_4xx(api: str) -> None:
    """A multipart body cut short is refused, not a 500."""
    headers = {'Content-Type': 'multipart/form-data; boundary=XYZ'}
    body = b'--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 abc'
    async with aiohttp.ClientSession() as http, http.post(f'{api}/analyze-async', data=body, headers=headers) as r:
        assert 400 <= r.status < 500
        assert 'error' in await r.json()


@pytest.mark.parametrize('path', ['/status/not-a-uuid', '/status/1b4e28ba-2fa1-41d2-883f-0016d3cca427',
                                  '/jobs/1b4e28ba-2fa1-41d2-883f-0016d3cca427/report.pdf', '/nowhere'])
async def test_unknown_things_are_404_json(api: str, path: str) -> None:
    """Unknown jobs and routes answer 404 with a JSON error."""
    async with aiohttp.ClientSession() as http, http.get(f'{api}{path}') as r:
        assert r.status == 404 and 'error' in await r.json()


async def test_health_and_stats(api: str) -> None:
    """/health is ok; /queue/stats names the backend and its state."""
    async with aiohttp.ClientSession() as http:
        status, health = await get_json(http, f'{api}/health')
        assert status == 200 and health['status'] == 'ok'
        status, stats = await get_json(http, f'{api}/queue/stats')
        assert status == 200 and stats['backend'] == 'memory' and stats['status'] == 'healthy'
        for key in ('queue_enabled', 'queue_length', 'workers', 'processing', 'jobs_by_status'):
            assert key in stats


@pytest.fixture
async def locked_api(settings: Settings) -> AsyncIterator[str]:
    """The API with API_TOKEN and a separate METRICS_TOKEN set."""
    app = create_app(Settings.from_env({}, **{**_fields(settings), 'queue_backend': 'memory', 'embedded_workers': 0,
                                              'api_token': 'op-token', 'metrics_token': 'scrape-token'}))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', 0)
    await site.start()
    yield f'http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}'  # type: ignore[union-attr]
    await runner.cleanup()


@pytest.mark.parametrize(('method', 'path'), [
    ('GET', '/queue/stats'), ('GET', '/jobs'), ('GET', '/metrics'), ('POST', '/analyze-async'),
    ('GET', '/status/1b4e28ba-2fa1-41d2-883f-0016d3cca427'), ('DELETE', '/jobs/1b4e28ba-2fa1-41d2-883f-0016d3cca427'),
])
async def test_token_is_required_everywhere_but_health(locked_api: str, method: str, path: str) -> None:
    """With API_TOKEN set, requests without (or with a wrong) bearer token get 401 JSON."""
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {'Authorization': 'Bearer wrong'}, {'Authorization': 'Basic op-token'}):
            async with http.request(method, f'{locked_api}{path}', headers=headers) as r:
                assert r.status == 401 and _is_error(await r.json(), 'unauthorized')
                assert r.headers['WWW-Authenticate'].startswith('Bearer')
        async with http.get(f'{locked_api}/health') as r:
            assert r.status == 200


async def test_right_tokens_open_the_api_and_metrics(locked_api: str) -> None:
    """The operator token opens everything; the metrics token opens only /metrics."""
    operator = {'Authorization': 'Bearer op-token'}
    scraper = {'Authorization': 'Bearer scrape-token'}
    async with aiohttp.ClientSession() as http:
        async with http.get(f'{locked_api}/queue/stats', headers=operator) as r:
            assert r.status == 200
        async with http.get(f'{locked_api}/metrics', headers=scraper) as r:
            assert r.status == 200 and 'bloodq_' in await r.text()
        async with http.get(f'{locked_api}/queue/stats', headers=scraper) as r:
            assert r.status == 401


async def test_half_sent_upload_times_out(settings: Settings) -> None:
    """A client that stops sending mid-upload gets 408 after UPLOAD_TIMEOUT_S instead of holding on."""
    import asyncio

    app = create_app(Settings.from_env({}, **{**_fields(settings), 'queue_backend': 'memory', 'embedded_workers': 0,
                                              'upload_timeout_s': 0.5}))
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        body = b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 '
        writer.write(b'POST /analyze-async HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n'
                     b'Content-Length: 100000\r\n\r\n' + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        assert b' 408 ' in status_line
        writer.close()
    finally:
        await runner.cleanup()
