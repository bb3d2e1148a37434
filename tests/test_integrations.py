"""Job control for integrations: webhooks, idempotency, long-poll, progress, priorities, ETA."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from pdfs import simple_report
from procs import Proc, get_json, launch, poll, service_env, submit, until_terminal
from redis_server import RedisServer

SECRET = 'test-secret'


class Receiver:
    """A real local HTTP server that records webhook POSTs; it can fail the first N."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.calls: list[tuple[int, dict[str, str], bytes]] = []
        self.url = ''
        self.got = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = 500 if len(self.calls) < self.fail_first else 200
        self.calls.append((status, dict(request.headers), body))
        if status == 200:
            self.got.set()
        return web.Response(status=status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver(fail_first=2)
    app = web.Application()
    app.router.add_post('/hook', rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', 0)
    await site.start()
    rec.url = f'http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook'  # type: ignore[union-attr]
    yield rec
    await runner.cleanup()


def env(backend: str, redis: RedisServer | None, **extra: Any) -> dict[str, str]:
    return service_env(backend, redis, HANDLER='handlers:SleepTask', WEBHOOK_SECRET=SECRET,
                       WEBHOOK_ALLOW_PRIVATE=1, WEBHOOK_RETRY_BASE_S=0.2, **extra)


@pytest.mark.parametrize('backend', ['memory', 'redis'])
async def test_webhook_is_signed_retried_and_reported(backend: str, tmp_path: Path, redis_server: RedisServer,
                                                      receiver: Receiver, procs: list[Proc]) -> None:
    """A completed job POSTs a signed body; 5xx answers are retried; /status shows the delivery."""
    api = await launch(procs, 'main.py', tmp_path, env(backend, redis_server)).ready()
    async with aiohttp.ClientSession() as http:
        _, body = await submit(http, api.url, simple_report(), query='sleep:0', callback=receiver.url)
        await asyncio.wait_for(receiver.got.wait(), 30)
        assert [c[0] for c in receiver.calls] == [500, 500, 200]
        _, headers, raw = receiver.calls[-1]
        expected = 'sha256=' + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert headers['X-Bloodq-Signature'] == expected and headers['X-Bloodq-Timestamp'].isdigit()
        sent = orjson.loads(raw)
        assert sent['job_id'] == body['job_id'] and sent['status'] == 'completed'
        assert sent['result']['status'] == 'success' and sent['completed_at'].endswith('Z')

        async def delivered() -> dict[str, Any] | None:
            _, state = await get_json(http, f'{api.url}/status/{body["job_id"]}')
            return state if state['callback']['delivered_at'] else None

        state = await poll(delivered, 10, what='delivery recorded')
        assert state['callback']['attempts'] == 3 and state['callback']['last_status'] == 200


async def test_failed_job_webhook_carries_only_the_error(tmp_path: Path, receiver: Receiver,
                                                         procs: list[Proc]) -> None:
    """A finally failed job POSTs status failed with its error code and retry count, no report text."""
    receiver.fail_first = 0
    api = await launch(procs, 'main.py', tmp_path, service_env(
        'memory', None, WEBHOOK_SECRET=SECRET, WEBHOOK_ALLOW_PRIVATE=1)).ready()
    async with aiohttp.ClientSession() as http:
        await submit(http, api.url, b'%PDF-1.4 this is not really a pdf', callback=receiver.url)
        await asyncio.wait_for(receiver.got.wait(), 30)
        sent = orjson.loads(receiver.calls[0][2])
        assert sent['status'] == 'failed' and sent['error']['code'] == 'corrupt_pdf'
        assert sent['retry_count'] == 0 and sent['failed_at'].endswith('Z')
        assert set(sent) == {'job_id', 'status', 'error', 'failed_at', 'retry_count'}


async def test_private_callbacks_are_refused_at_submit(tmp_path: Path, procs: list[Proc]) -> None:
    """Without WEBHOOK_ALLOW_PRIVATE, loopback/private/link-local callbacks are a 422 at submit."""
    api = await launch(procs, 'main.py', tmp_path, service_env('memory', None, EMBEDDED_WORKERS=0)).ready()
    async with aiohttp.ClientSession() as http:
        for url in ('http://127.0.0.1:9/x', 'http://10.1.2.3/x', 'http://169.254.169.254/latest', 'ftp://a.b/c',
                    'http://[::1]/x', 'http://localhost/x'):
            status, body = await submit(http, api.url, simple_report(), callback=url)
            assert status == 422 and body['error']['code'] == 'callback_refused', (url, body)


@pytest.mark.parametrize('backend', ['memory', 'redis'])
async def test_idempotency_key_returns_the_first_job(backend: str, tmp_path: Path, redis_server: RedisServer,
                                                     procs: list[Proc]) -> None:
    """Repeats with the same Idempotency-Key return the first job, even through another API process."""
    api = await launch(procs, 'main.py', tmp_path, env(backend, redis_server, EMBEDDED_WORKERS=0)).ready()
    other = api
    if backend == 'redis':
        other = await launch(procs, 'main.py', tmp_path / 'b', {**api.env, 'PORT': ''}).ready()
    async with aiohttp.ClientSession(headers={'Idempotency-Key': 'order-42'}) as http:
        status, first = await submit(http, api.url, simple_report())
        status2, again = await submit(http, other.url, simple_report())
        assert status == 202 and status2 == 200
        assert again['job_id'] == first['job_id'] and again['idempotent_replay'] is True
    async with aiohttp.ClientSession() as http:
        _, listing = await get_json(http, f'{api.url}/jobs')
        assert len(listing['jobs']) == 1


@pytest.mark.parametrize('backend', ['memory', 'redis'])
async def test_long_poll_answers_when_the_job_ends(backend: str, tmp_path: Path, redis_server: RedisServer,
                                                   procs: list[Proc]) -> None:
    """GET /status/{id}?wait=30 returns as soon as the job is terminal, well before the wait ends."""
    api = await launch(procs, 'main.py', tmp_path, env(backend, redis_server)).ready()
    async with aiohttp.ClientSession() as http:
        _, body = await submit(http, api.url, simple_report(), query='sleep:1')
        started = time.monotonic()
        status, done = await get_json(http, f'{api.url}/status/{body["job_id"]}?wait=30')
        assert status == 200 and done['status'] == 'completed'
        assert time.monotonic() - started < 10
        status, bad = await get_json(http, f'{api.url}/status/{body["job_id"]}?wait=soon')
        assert status == 422 and bad['error']['code'] == 'bad_wait'


@pytest.mark.parametrize('backend', ['memory', 'redis'])
async def test_progress_stage_and_position_move_as_the_queue_drains(
        backend: str, tmp_path: Path, redis_server: RedisServer, procs: list[Proc]) -> None:
    """Running jobs show progress and stage; queued ones a position and ETA that shrink as work drains."""
    api = await launch(procs, 'main.py', tmp_path, env(backend, redis_server, EMBEDDED_WORKERS=1)).ready()
    async with aiohttp.ClientSession() as http:
        bodies = [(await submit(http, api.url, simple_report(), query='sleep:0.6'))[1] for _ in range(4)]
        last = bodies[-1]['job_id']
        running = await poll(lambda: _state_if(http, api, bodies[0]['job_id'], 'processing'), 10, what='running')
        assert running['stage'] == 'parsing' and running['progress'] == 50
        positions, etas = [], []
        while True:
            _, state = await get_json(http, f'{api.url}/status/{last}')
            if state['status'] != 'queued':
                break
            if not positions or positions[-1] != state['position_in_queue']:
                positions.append(state['position_in_queue'])
                etas.append(state['estimated_completion'])
            await asyncio.sleep(0.05)
        assert positions[0] > positions[-1] == 1
        assert etas == sorted(etas, reverse=True) or len(set(etas)) > 1
        await until_terminal(http, api.url, last)


async def _state_if(http: aiohttp.ClientSession, api: Proc, job_id: str, status: str) -> dict[str, Any] | None:
    _, state = await get_json(http, f'{api.url}/status/{job_id}')
    return state if state['status'] == status else None


@pytest.mark.parametrize('backend', ['memory', 'redis'])
async def test_high_priority_starts_before_a_backlog(backend: str, tmp_path: Path, redis_server: RedisServer,
                                                    procs: list[Proc]) -> None:
    """A high job submitted behind 100 normal ones is claimed before them (across consumers)."""
    api = await launch(procs, 'main.py', tmp_path, env(backend, redis_server, EMBEDDED_WORKERS=0)).ready()
    async with aiohttp.ClientSession() as http:
        normals = [(await submit(http, api.url, simple_report(), query='sleep:0'))[1] for _ in range(100)]
        status, high = await submit(http, api.url, simple_report(), query='sleep:0', priority='high')
        assert status == 202 and high['position_in_queue'] == 1
        assert normals[0]['position_in_queue'] == 1
        _, stats = await get_json(http, f'{api.url}/queue/stats')
        assert stats['queue_length_by_priority'] == {'high': 1, 'normal': 100, 'low': 0}
    api.stop()
    api = await launch(procs, 'main.py', tmp_path, {**api.env, 'EMBEDDED_WORKERS': '2'}).ready()
    async with aiohttp.ClientSession() as http:
        finished = await until_terminal(http, api.url, high['job_id'])
        first_normal = await until_terminal(http, api.url, normals[0]['job_id'])
        assert finished['started_at'] <= first_normal['started_at']


async def test_backpressure_is_a_503_with_retry_after(tmp_path: Path, procs: list[Proc]) -> None:
    """At MAX_QUEUE_SIZE waiting jobs a submit gets 503 + Retry-After; accepted jobs stay."""
    api = await launch(procs, 'main.py', tmp_path, service_env('memory', None, EMBEDDED_WORKERS=0,
                                                               MAX_QUEUE_SIZE=3)).ready()
    async with aiohttp.ClientSession() as http:
        accepted = [await submit(http, api.url, simple_report()) for _ in range(3)]
        assert [s for s, _ in accepted] == [202] * 3
        form = aiohttp.FormData()
        form.add_field('file', simple_report(), filename='r.pdf')
        async with http.post(f'{api.url}/analyze-async', data=form) as r:
            assert r.status == 503 and r.headers['Retry-After'].isdigit()
            assert (await r.json())['error']['code'] == 'queue_full'
        _, stats = await get_json(http, f'{api.url}/queue/stats')
        assert stats['queue_length'] == 3


async def test_sync_analyze_falls_back_to_202_after_sync_timeout(tmp_path: Path, procs: list[Proc]) -> None:
    """POST /analyze waits at most SYNC_TIMEOUT, then answers 202 with the async shape."""
    api = await launch(procs, 'main.py', tmp_path, env('memory', None, SYNC_TIMEOUT=1)).ready()
    async with aiohttp.ClientSession() as http:
        status, body = await submit(http, api.url, simple_report(), path='/analyze', query='sleep:5')
        assert status == 202 and body['status_url'] == f'/status/{body["job_id"]}'
        assert (await until_terminal(http, api.url, body['job_id']))['status'] == 'completed'


@pytest.mark.parametrize('backend', ['memory', 'redis'])
async def test_delete_erases_a_job_now_and_retention_expires_it(
        backend: str, tmp_path: Path, redis_server: RedisServer, procs: list[Proc]) -> None:
    """DELETE removes job, upload, result and report at once; RESULT_TTL removes them later by itself."""
    api = await launch(procs, 'main.py', tmp_path, env(backend, redis_server, RESULT_TTL=2)).ready()
    async with aiohttp.ClientSession() as http:
        _, kept = await submit(http, api.url, simple_report(), query='sleep:0')
        _, gone = await submit(http, api.url, simple_report(), query='sleep:0')
        for body in (kept, gone):
            await until_terminal(http, api.url, body['job_id'])
        async with http.delete(f'{api.url}/jobs/{gone["job_id"]}') as r:
            assert r.status == 200
        assert (await get_json(http, f'{api.url}/status/{gone["job_id"]}'))[0] == 404

        async def expired() -> bool:
            return (await get_json(http, f'{api.url}/status/{kept["job_id"]}'))[0] == 404

        await poll(expired, 15, what='RESULT_TTL expiry')
