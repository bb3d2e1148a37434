"""The service as a user runs it: real main.py and worker.py processes, HTTP, signals."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
import pytest
from conftest import require_shared
from pdfs import encrypted, image_only, not_a_lab_report, simple_report, truncated
from procs import Proc, get_json, launch, poll, service_env, submit, until_terminal
from redis_server import RedisServer


@pytest.mark.parametrize('backend', ['memory', 'redis'])
async def test_shared_sample_report_is_analysed(backend: str, tmp_path: Path, redis_server: RedisServer,
                                                procs: list[Proc]) -> None:
    """The real sample goes through upload, queue and worker to a result and a report PDF."""
    sample = (require_shared() / 'blood_test_report.pdf').read_bytes()
    api = await launch(procs, 'main.py', tmp_path, service_env(backend, redis_server)).ready()
    async with aiohttp.ClientSession() as http:
        status, body = await submit(http, api.url, sample, name='blood_test_report.pdf',
                                    query='Please analyze my blood test results')
        assert status == 202
        done = await until_terminal(http, api.url, body['job_id'])
        assert done['status'] == 'completed', done
        result = done['result']
        assert result['status'] == 'success' and result['file_processed'] == 'blood_test_report.pdf'
        assert result['query'] == 'Please analyze my blood test results'
        for key in ('analysis', 'processing_time', 'specialists_consulted', 'disclaimer', 'results'):
            assert key in result
        rows = {r['canonical']: r for r in result['results']}
        assert (rows['hemoglobin']['value'], rows['hemoglobin']['unit'], rows['hemoglobin']['flag']) == (
            15.0, 'g/dL', 'normal')
        assert (rows['hemoglobin']['ref_low'], rows['hemoglobin']['ref_high']) == (13.0, 17.0)
        assert rows['alp']['value'] == 150.0 and rows['alp']['flag'] == 'high'
        assert rows['vitamin_d_25oh']['value'] == 85.0 and rows['vitamin_d_25oh']['unit'] == 'nmol/L'
        async with http.get(f'{api.url}{result["report_url"]}') as r:
            assert r.status == 200 and r.content_type == 'application/pdf'
            assert (await r.read()).startswith(b'%PDF')
        async with http.get(f'{api.url}/metrics') as r:
            exposition = await r.text()
        for secret in ('DUMMY', 'Hemoglobin', 'hemoglobin', '15.00', 'Vitamin D'):
            assert secret not in exposition  # metrics carry counts and timings, never lab data
    api.stop()
    log_text = (tmp_path / 'logs' / 'blood_test_analyzer.log').read_text()
    assert body['job_id'] in log_text
    for secret in ('DUMMY', 'Hemoglobin', '15.00', 'Vitamin D'):
        assert secret not in log_text


@pytest.mark.parametrize(('backend', 'count'), [('memory', 5), ('memory', 50), ('redis', 50)])
async def test_concurrent_uploads_get_distinct_ids_and_all_complete(
        backend: str, count: int, tmp_path: Path, redis_server: RedisServer, procs: list[Proc]) -> None:
    """The original success checklist: uploads sent at once are all accepted and all complete."""
    api = await launch(procs, 'main.py', tmp_path, service_env(backend, redis_server)).ready()
    async with aiohttp.ClientSession() as http:
        accepted = await asyncio.gather(*(submit(http, api.url, simple_report()) for _ in range(count)))
        assert all(status == 202 for status, _ in accepted)
        ids = {body['job_id'] for _, body in accepted}
        assert len(ids) == count
        finals = await asyncio.gather(*(until_terminal(http, api.url, i, timeout_s=120) for i in ids))
        assert [f['status'] for f in finals] == ['completed'] * count
        _, stats = await get_json(http, f'{api.url}/queue/stats')
        assert stats['backend'] == backend and stats['jobs_by_status']['completed'] == count


async def test_more_concurrent_uploads_than_redis_connections_wait_instead_of_spooling(
        tmp_path: Path, redis_server: RedisServer, procs: list[Proc]) -> None:
    """Uploads beyond REDIS_MAX_CONNECTIONS queue for a connection: all land in Redis, none in the outage spool."""
    env = service_env('redis', redis_server, EMBEDDED_WORKERS=1, REDIS_MAX_CONNECTIONS=4, MAX_QUEUE_SIZE=1000,
                      HANDLER='handlers:SleepTask')
    api = await launch(procs, 'main.py', tmp_path, env).ready()
    pdf = simple_report(pages=40)
    async with aiohttp.ClientSession() as http:
        accepted = await asyncio.gather(*(submit(http, api.url, pdf, query='sleep:0') for _ in range(60)))
        assert [status for status, _ in accepted] == [202] * 60
        _, stats = await get_json(http, f'{api.url}/queue/stats')
        assert stats['status'] == 'healthy' and not stats['spooled']
    api.stop()
    events = {e['event'] for e in api.log_events('blood_test_analyzer.log')}
    assert 'job_spooled_redis_unreachable' not in events


async def test_jobs_queued_in_redis_survive_a_restart_of_main(tmp_path: Path, redis_server: RedisServer,
                                                             procs: list[Proc]) -> None:
    """Jobs accepted while no worker runs are processed after main.py is killed and restarted."""
    env = service_env('redis', redis_server, EMBEDDED_WORKERS=0)
    api = await launch(procs, 'main.py', tmp_path, env).ready()
    async with aiohttp.ClientSession() as http:
        accepted = [await submit(http, api.url, simple_report()) for _ in range(5)]
        api.kill()
        env['EMBEDDED_WORKERS'] = '2'
        env['PORT'] = str(api.port)
        api = await launch(procs, 'main.py', tmp_path, env).ready()
        finals = [await until_terminal(http, api.url, body['job_id']) for _, body in accepted]
        assert [f['status'] for f in finals] == ['completed'] * 5


async def test_standalone_workers_consume_and_stop_cleanly(tmp_path: Path, redis_server: RedisServer,
                                                          procs: list[Proc]) -> None:
    """worker.py processes take jobs from an API that has no workers of its own; SIGTERM exits 0."""
    env = service_env('redis', redis_server, EMBEDDED_WORKERS=0, WORKER_COUNT=2)
    api = await launch(procs, 'main.py', tmp_path, env).ready()
    worker = launch(procs, 'worker.py', tmp_path, env)
    async with aiohttp.ClientSession() as http:
        async def two_consumers() -> bool:
            _, stats = await get_json(http, f'{api.url}/queue/stats')
            return bool(stats['workers'] == 2)

        await poll(two_consumers, 20, what='two live consumers')
        accepted = [await submit(http, api.url, simple_report()) for _ in range(4)]
        finals = [await until_terminal(http, api.url, body['job_id']) for _, body in accepted]
        assert [f['status'] for f in finals] == ['completed'] * 4
        worker.send(signal.SIGTERM)
        assert worker.wait(30) == 0
        events = [e['event'] for e in worker.log_events('worker.log')]
        assert 'pool_started' in events and 'pool_stopped' in events


async def test_report_pdf_is_drawn_once_on_demand_and_shared_by_api_processes(
        tmp_path: Path, redis_server: RedisServer, procs: list[Proc]) -> None:
    """REPORT_PDF=on_demand: worker.py skips rendering; the first GET draws the PDF and every API process serves that copy."""
    env = service_env('redis', redis_server, EMBEDDED_WORKERS=0, WORKER_COUNT=1)
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    first = await launch(procs, 'main.py', tmp_path / 'a', env).ready()
    second = await launch(procs, 'main.py', tmp_path / 'b', env).ready()
    launch(procs, 'worker.py', tmp_path, env)
    async with aiohttp.ClientSession() as http:
        _, body = await submit(http, first.url, simple_report())
        done = await until_terminal(http, first.url, body['job_id'])
        assert done['status'] == 'completed' and done['report_url'] == f'/jobs/{body["job_id"]}/report.pdf'
        assert 'rendering' not in done['result']['stage_timings_s']
        async with http.get(f'{first.url}{done["report_url"]}') as r:
            assert r.status == 200 and r.content_type == 'application/pdf'
            drawn = await r.read()
        async with http.get(f'{second.url}{done["report_url"]}') as r:
            assert r.status == 200 and await r.read() == drawn
        drew = [[e for e in p.log_events('blood_test_analyzer.log') if e['event'] == 'report_drawn'] for p in (first, second)]
        assert len(drew[0]) == 1 and drew[1] == []  # the second process read the stored copy
        async with http.delete(f'{second.url}/jobs/{body["job_id"]}') as r:
            assert r.status == 200
        async with http.get(f'{first.url}{done["report_url"]}') as r:
            assert r.status == 404


async def test_report_pdf_eager_is_drawn_with_the_analysis(tmp_path: Path, procs: list[Proc]) -> None:
    """REPORT_PDF=eager: the worker renders with the analysis and the stored PDF is served as is."""
    api = await launch(procs, 'main.py', tmp_path, service_env('memory', None, REPORT_PDF='eager')).ready()
    async with aiohttp.ClientSession() as http:
        _, body = await submit(http, api.url, simple_report())
        done = await until_terminal(http, api.url, body['job_id'])
        assert done['status'] == 'completed' and 'rendering' in done['result']['stage_timings_s']
        reads = []
        for _ in range(2):
            async with http.get(f'{api.url}{done["report_url"]}') as r:
                assert r.status == 200
                reads.append(await r.read())
        assert reads[0].startswith(b'%PDF') and reads[0] == reads[1]


async def test_worker_without_redis_exits_nonzero_with_one_line(tmp_path: Path, procs: list[Proc]) -> None:
    """worker.py refuses to run without Redis, saying why in one line (systemd restarts it)."""
    env = service_env('redis', None, REDIS_URL='redis://127.0.0.1:1/0')
    worker = launch(procs, 'worker.py', tmp_path, env)
    assert worker.wait(30) == 1
    lines = [line for line in worker.stderr().splitlines() if line.startswith('worker.py:')]
    assert len(lines) == 1 and 'cannot reach Redis' in lines[0]


async def test_auto_backend_falls_back_to_memory_and_redis_backend_refuses(tmp_path: Path,
                                                                           procs: list[Proc]) -> None:
    """Without Redis, auto mode warns and serves from memory; QUEUE_BACKEND=redis refuses to start."""
    api = await launch(procs, 'main.py', tmp_path, service_env('auto', None, REDIS_URL='redis://127.0.0.1:1/0')).ready()
    async with aiohttp.ClientSession() as http:
        _, stats = await get_json(http, f'{api.url}/queue/stats')
        assert stats['backend'] == 'memory'
    assert 'redis_unavailable_using_memory' in [e['event'] for e in api.log_events('blood_test_analyzer.log')]
    strict = launch(procs, 'main.py', tmp_path / 'strict', service_env('redis', None, REDIS_URL='redis://127.0.0.1:1/0'))
    assert strict.wait(30) != 0
    assert 'does not answer' in strict.stderr()


async def test_bad_pdfs_end_with_a_code_and_workers_carry_on(tmp_path: Path, procs: list[Proc]) -> None:
    """Encrypted, scanned and corrupt PDFs fail with their code; a non-report completes empty."""
    api = await launch(procs, 'main.py', tmp_path, service_env('memory', None)).ready()
    cases = {'encrypted_pdf': encrypted(), 'no_text_layer': image_only(), 'corrupt_pdf': truncated()}
    async with aiohttp.ClientSession() as http:
        for code, pdf in cases.items():
            status, body = await submit(http, api.url, pdf)
            assert status == 202
            done = await until_terminal(http, api.url, body['job_id'])
            assert done['status'] == 'failed' and done['error']['code'] == code, done
            assert done['attempts'] == 1  # permanent: not retried
        status, body = await submit(http, api.url, not_a_lab_report())
        done = await until_terminal(http, api.url, body['job_id'])
        assert done['status'] == 'completed' and done['result']['results'] == []
        status, body = await submit(http, api.url, simple_report())
        assert (await until_terminal(http, api.url, body['job_id']))['status'] == 'completed'


async def test_sync_analyze_goes_through_the_queue(tmp_path: Path, procs: list[Proc]) -> None:
    """POST /analyze answers 200 with the result, produced by the pool (the job is listed)."""
    api = await launch(procs, 'main.py', tmp_path, service_env('memory', None)).ready()
    async with aiohttp.ClientSession() as http:
        status, body = await submit(http, api.url, simple_report(), path='/analyze')
        assert status == 200 and body['status'] == 'success'
        _, listing = await get_json(http, f'{api.url}/jobs')
        assert [j['job_id'] for j in listing['jobs']] == [body['job_id']]
        assert listing['jobs'][0]['attempts'] == 1


async def test_job_timeout_kills_the_child_and_the_pool_carries_on(tmp_path: Path, procs: list[Proc]) -> None:
    """An analysis past JOB_TIMEOUT is stopped by killing its child; the job fails with code timeout."""
    api = await launch(procs, 'main.py', tmp_path, service_env('memory', None, EMBEDDED_WORKERS=1, JOB_TIMEOUT=0.4,
                                                               MAX_RETRIES=0)).ready()
    async with aiohttp.ClientSession() as http:
        _, slow = await submit(http, api.url, simple_report(pages=300))
        done = await until_terminal(http, api.url, slow['job_id'])
        assert done['status'] == 'failed' and done['error']['code'] == 'timeout'
        _, quick = await submit(http, api.url, simple_report())
        assert (await until_terminal(http, api.url, quick['job_id']))['status'] == 'completed'
    events = [e['event'] for e in api.log_events('blood_test_analyzer.log')]
    assert 'child_killed' in events and events.count('child_started') >= 2


async def test_children_are_recycled_after_max_tasks(tmp_path: Path, procs: list[Proc]) -> None:
    """After MAX_TASKS_PER_CHILD jobs an analysis child is replaced by a fresh one."""
    api = await launch(procs, 'main.py', tmp_path, service_env('memory', None, EMBEDDED_WORKERS=1,
                                                               MAX_TASKS_PER_CHILD=2)).ready()
    async with aiohttp.ClientSession() as http:
        for _ in range(5):
            _, body = await submit(http, api.url, simple_report())
            assert (await until_terminal(http, api.url, body['job_id']))['status'] == 'completed'
    pids = {e['pid'] for e in api.log_events('blood_test_analyzer.log')
            if e['event'] == 'child_started' and e['role'] == 'analysis'}
    assert len(pids) == 3
