"""No job lost, none done twice: real worker processes killed with real signals.

These tests run ``HANDLER=handlers:SleepTask`` so a job lasts as long as its query says
(``sleep:3``); the analysis itself is exercised elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pdfs import simple_report
from procs import Proc, get_json, launch, poll, service_env, submit, until_terminal
from redis_server import RedisServer

LEASE_S = 2.0


def env_for(redis: RedisServer, **extra: Any) -> dict[str, str]:
    settings = {'EMBEDDED_WORKERS': 0, 'WORKER_COUNT': 1, 'HANDLER': 'handlers:SleepTask', 'LEASE_S': LEASE_S,
                'MAX_RETRIES': 3, 'RETRY_BACKOFF_S': 0.1, **extra}
    return service_env('redis', redis, **settings)


async def workers_live(http: aiohttp.ClientSession, api: Proc, n: int) -> None:
    async def check() -> bool:
        _, stats = await get_json(http, f'{api.url}/queue/stats')
        return bool(stats['workers'] == n)

    await poll(check, 20, what=f'{n} live consumers')


async def job_state(http: aiohttp.ClientSession, api: Proc, job_id: str) -> dict[str, Any]:
    _, body = await get_json(http, f'{api.url}/status/{job_id}')
    return body


async def until_status(http: aiohttp.ClientSession, api: Proc, job_id: str, status: str,
                       timeout_s: float = 20) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        body = await job_state(http, api, job_id)
        return body if body['status'] == status else None

    result: dict[str, Any] = await poll(check, timeout_s, what=f'{job_id} {status}')
    return result


async def test_sigkilled_worker_job_is_recovered_by_another(tmp_path: Path, redis_server: RedisServer,
                                                           procs: list[Proc]) -> None:
    """SIGKILL a worker mid-job: another worker runs it again once the lease lapses, and completes it."""
    env = env_for(redis_server)
    api = await launch(procs, 'main.py', tmp_path, env).ready()
    victim = launch(procs, 'worker.py', tmp_path, env)
    async with aiohttp.ClientSession() as http:
        await workers_live(http, api, 1)
        _, body = await submit(http, api.url, simple_report(), query='sleep:30')
        await until_status(http, api, body['job_id'], 'processing')
        victim.kill()
        killed_at = time.monotonic()
        launch(procs, 'worker.py', tmp_path, env)
        # the rescuer runs it again: attempt 2 starts within the lease plus the sweep interval
        async def second_attempt() -> bool:
            state = await job_state(http, api, body['job_id'])
            return bool(state['status'] == 'processing' and state['attempts'] == 2)

        await poll(second_attempt, LEASE_S + 10, what='second attempt')
        assert time.monotonic() - killed_at < LEASE_S + 5
        await http.post(f'{api.url}/jobs/{body["job_id"]}/cancel')
        final = await until_terminal(http, api.url, body['job_id'])
        assert final['status'] == 'cancelled' and final['attempts'] == 2


async def test_recovered_job_completes_once(tmp_path: Path, redis_server: RedisServer, procs: list[Proc]) -> None:
    """A job whose worker died is completed by the next one, with one result and attempts=2."""
    env = env_for(redis_server)
    api = await launch(procs, 'main.py', tmp_path, env).ready()
    victim = launch(procs, 'worker.py', tmp_path, env)
    async with aiohttp.ClientSession() as http:
        await workers_live(http, api, 1)
        _, body = await submit(http, api.url, simple_report(), query='sleep:1.5')
        await until_status(http, api, body['job_id'], 'processing')
        victim.kill()
        launch(procs, 'worker.py', tmp_path, env)
        final = await until_terminal(http, api.url, body['job_id'], timeout_s=30)
        assert final['status'] == 'completed' and final['attempts'] == 2
        assert final['result']['attempt'] == 2
        _, stats = await get_json(http, f'{api.url}/queue/stats')
        assert stats['totals']['completed'] == 1 and stats['totals']['recovered'] == 1


@contextlib.asynccontextmanager
async def draining_worker(tmp_path: Path, redis: RedisServer, procs: list[Proc], grace_s: float,
                          running_query: str) -> AsyncIterator[tuple[aiohttp.ClientSession, Proc, Proc, str, str]]:
    """An API and one worker running a job (``running_query``) with another job waiting behind it."""
    env = env_for(redis, SHUTDOWN_GRACE_S=grace_s)
    api = await launch(procs, 'main.py', tmp_path, env).ready()
    worker = launch(procs, 'worker.py', tmp_path, env)
    async with aiohttp.ClientSession() as http:
        await workers_live(http, api, 1)
        _, running = await submit(http, api.url, simple_report(), query=running_query)
        await until_status(http, api, running['job_id'], 'processing')
        _, waiting = await submit(http, api.url, simple_report(), query='sleep:0')
        yield http, api, worker, running['job_id'], waiting['job_id']


async def test_sigterm_lets_the_running_job_finish(tmp_path: Path, redis_server: RedisServer,
                                                  procs: list[Proc]) -> None:
    """SIGTERM: no new jobs are taken, the running one finishes within the grace, exit 0."""
    async with draining_worker(tmp_path, redis_server, procs, 20, 'sleep:2') as (http, api, worker, running, waiting):
        worker.send(signal.SIGTERM)
        assert worker.wait(30) == 0
        assert (await job_state(http, api, running))['status'] == 'completed'
        assert (await job_state(http, api, waiting))['status'] == 'queued'


async def test_grace_over_puts_the_job_back_at_the_head(tmp_path: Path, redis_server: RedisServer,
                                                       procs: list[Proc]) -> None:
    """A job still running when the grace ends goes back to the head of the queue; a second SIGTERM hurries."""
    async with draining_worker(tmp_path, redis_server, procs, 60, 'sleep:60') as (http, api, worker, long_job, behind):
        worker.send(signal.SIGTERM)

        async def draining() -> bool:  # the first signal has registered before the second is sent
            return 'pool_stopping' in [e['event'] for e in worker.log_events('worker.log')]

        await poll(draining, 10, what='worker draining')
        stopped_at = time.monotonic()
        worker.send(signal.SIGTERM)
        assert worker.wait(20) == 0
        assert time.monotonic() - stopped_at < 10
        state = await job_state(http, api, long_job)
        assert state['status'] == 'queued' and state['position_in_queue'] == 1
        assert (await job_state(http, api, behind))['position_in_queue'] == 2


async def test_cancel_stops_a_running_job_on_another_process(tmp_path: Path, redis_server: RedisServer,
                                                             procs: list[Proc]) -> None:
    """POST /jobs/{id}/cancel on the API stops the job running in worker.py within 2 s."""
    env = env_for(redis_server)
    api = await launch(procs, 'main.py', tmp_path, env).ready()
    launch(procs, 'worker.py', tmp_path, env)
    async with aiohttp.ClientSession() as http:
        await workers_live(http, api, 1)
        _, body = await submit(http, api.url, simple_report(), query='sleep:60')
        await until_status(http, api, body['job_id'], 'processing')
        asked = time.monotonic()
        async with http.post(f'{api.url}/jobs/{body["job_id"]}/cancel') as r:
            assert r.status == 200
        await until_status(http, api, body['job_id'], 'cancelled', timeout_s=5)
        assert time.monotonic() - asked < 2.5
        # the worker is free again
        _, quick = await submit(http, api.url, simple_report(), query='sleep:0')
        assert (await until_terminal(http, api.url, quick['job_id']))['status'] == 'completed'


async def test_a_job_that_keeps_killing_workers_ends_as_poison(tmp_path: Path, redis_server: RedisServer,
                                                               procs: list[Proc]) -> None:
    """Every worker that takes the job dies; after MAX_RETRIES redeliveries it fails with code poison."""
    env = env_for(redis_server, MAX_RETRIES=1)
    api = await launch(procs, 'main.py', tmp_path, env).ready()
    async with aiohttp.ClientSession() as http:
        _, body = await submit(http, api.url, simple_report(), query='sleep:60')
        for attempt in (1, 2):
            worker = launch(procs, 'worker.py', tmp_path, env)

            async def running(n: int = attempt) -> bool:
                state = await job_state(http, api, body['job_id'])
                return bool(state['status'] == 'processing' and state['attempts'] == n)

            await poll(running, LEASE_S + 15, what=f'attempt {attempt}')
            worker.kill()
        launch(procs, 'worker.py', tmp_path, env)  # the sweeper that declares it poison
        final = await until_terminal(http, api.url, body['job_id'], timeout_s=LEASE_S + 15)
        assert final['status'] == 'failed' and final['error']['code'] == 'poison'
        _, listing = await get_json(http, f'{api.url}/jobs?status=failed')
        assert [j['job_id'] for j in listing['jobs']] == [body['job_id']]


@pytest.mark.parametrize('fsync', ['always', 'everysec'])
async def test_redis_restart_with_aof_loses_no_accepted_job(fsync: str, tmp_path: Path, procs: list[Proc]) -> None:
    """Jobs accepted before Redis restarts (AOF on) are all processed afterwards."""
    server = RedisServer(appendonly=True, fsync=fsync).start()
    try:
        env = env_for(server)
        api = await launch(procs, 'main.py', tmp_path, env).ready()
        async with aiohttp.ClientSession() as http:
            ids = [(await submit(http, api.url, simple_report(), query='sleep:0'))[1]['job_id'] for _ in range(10)]
            server.stop()  # SIGTERM: the server fsyncs its AOF on the way down (a crash may lose ~1 s with everysec)
            server.start()
            launch(procs, 'worker.py', tmp_path, env)
            finals = [await until_terminal(http, api.url, i, timeout_s=30) for i in ids]
            assert [f['status'] for f in finals] == ['completed'] * 10
    finally:
        server.cleanup()


async def test_redis_outage_spools_uploads_and_processes_them_after(tmp_path: Path, procs: list[Proc]) -> None:
    """With Redis down, uploads still get 202 and stats say degraded; when it returns the jobs complete."""
    server = RedisServer().start()
    try:
        env = env_for(server)
        api = await launch(procs, 'main.py', tmp_path, env).ready()
        launch(procs, 'worker.py', tmp_path, env)
        async with aiohttp.ClientSession() as http:
            await workers_live(http, api, 1)
            server.stop()
            accepted = [await submit(http, api.url, simple_report(), query='sleep:0') for _ in range(3)]
            assert [status for status, _ in accepted] == [202, 202, 202]
            _, stats = await get_json(http, f'{api.url}/queue/stats')
            assert stats['status'] == 'degraded' and stats['spooled'] == 3
            state = await job_state(http, api, accepted[0][1]['job_id'])
            assert state['status'] == 'queued'
            server.start()
            finals = [await until_terminal(http, api.url, body['job_id'], timeout_s=40) for _, body in accepted]
            assert [f['status'] for f in finals] == ['completed'] * 3
            _, stats = await get_json(http, f'{api.url}/queue/stats')
            assert stats['status'] == 'healthy' and stats['totals']['completed'] == 3
    finally:
        server.cleanup()


async def test_memory_mode_restart_loses_nothing(tmp_path: Path, procs: list[Proc]) -> None:
    """Without Redis, jobs accepted before main.py is killed are completed after it restarts."""
    env = service_env('memory', None, EMBEDDED_WORKERS=0, HANDLER='handlers:SleepTask')
    api = await launch(procs, 'main.py', tmp_path, env).ready()
    async with aiohttp.ClientSession() as http:
        ids = [(await submit(http, api.url, simple_report(), query='sleep:0'))[1]['job_id'] for _ in range(5)]
        api.kill()
        api = await launch(procs, 'main.py', tmp_path, {**env, 'EMBEDDED_WORKERS': '2', 'PORT': str(api.port)}).ready()
        finals = [await until_terminal(http, api.url, i) for i in ids]
        assert [f['status'] for f in finals] == ['completed'] * 5
    assert os.listdir(tmp_path / 'data' / 'journal')  # finished records are kept until RESULT_TTL
