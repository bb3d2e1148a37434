"""Operators' view: JSON logs with context, Prometheus metrics from the API and from worker.py."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from pdfs import simple_report
from procs import Proc, get_json, launch, poll, service_env, submit, until_terminal
from redis_server import RedisServer, free_port


async def _text(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as r:
        assert r.status == 200
        return await r.text()


async def test_metrics_and_stats_after_jobs(tmp_path: Path, procs: list[Proc]) -> None:
    """/metrics names everything bloodq_*, counts jobs and requests; /queue/stats shows rates and consumers."""
    api = await launch(procs, 'main.py', tmp_path, service_env('memory', None, HANDLER='handlers:SleepTask')).ready()
    async with aiohttp.ClientSession() as http:
        for _ in range(3):
            _, body = await submit(http, api.url, simple_report(), query='sleep:0')
            await until_terminal(http, api.url, body['job_id'])
        text = await _text(http, f'{api.url}/metrics')
        samples = [line for line in text.splitlines() if line and not line.startswith('#')]
        assert samples and all(line.startswith('bloodq_') for line in samples)
        for needle in ('bloodq_jobs_submitted_total{priority="normal"} 3.0', 'bloodq_jobs_completed_total 3.0',
                       'bloodq_job_duration_seconds_count{stage="total"} 3.0', 'bloodq_consumers_live 2.0',
                       'bloodq_queue_length{priority="high"} 0.0',
                       'bloodq_http_requests_total{method="POST",route="/analyze-async",status="202"} 3.0'):
            assert needle in text, needle
        _, stats = await get_json(http, f'{api.url}/queue/stats')
        assert stats['throughput_last_minute'] == 3 and stats['failure_rate'] == 0.0
        assert stats['avg_processing_time_s'] is not None and stats['p95_processing_time_s'] is not None
        consumer = stats['consumers'][0]
        assert {'id', 'host', 'pid', 'job_id', 'last_heartbeat'} <= set(consumer)


async def test_worker_serves_its_own_metrics(tmp_path: Path, redis_server: RedisServer, procs: list[Proc]) -> None:
    """worker.py with METRICS_PORT exposes its counters (completed jobs, lease recoveries)."""
    port = free_port()
    env = service_env('redis', redis_server, EMBEDDED_WORKERS=0, HANDLER='handlers:SleepTask')
    api = await launch(procs, 'main.py', tmp_path, env).ready()
    launch(procs, 'worker.py', tmp_path, {**env, 'METRICS_PORT': str(port)})
    async with aiohttp.ClientSession() as http:
        _, body = await submit(http, api.url, simple_report(), query='sleep:0')
        await until_terminal(http, api.url, body['job_id'])

        async def scraped() -> str | None:
            try:
                text = await _text(http, f'http://127.0.0.1:{port}/metrics')
            except aiohttp.ClientError:
                return None
            return text if 'bloodq_jobs_completed_total 1.0' in text else None

        text = await poll(scraped, 15, what='worker metrics')
        assert 'bloodq_lease_recoveries_total' in text


async def test_every_log_line_is_json_with_context(tmp_path: Path, procs: list[Proc]) -> None:
    """Log lines are JSON objects with ts/level/event/logger; job lines carry job_id, requests request_id."""
    api = await launch(procs, 'main.py', tmp_path, service_env('memory', None, HANDLER='handlers:SleepTask')).ready()
    async with aiohttp.ClientSession() as http:
        _, body = await submit(http, api.url, simple_report(), query='sleep:0')
        await until_terminal(http, api.url, body['job_id'])
    api.stop()
    raw = (tmp_path / 'logs' / 'blood_test_analyzer.log').read_text().splitlines()
    events = api.log_events('blood_test_analyzer.log')
    assert len(events) == len(raw) > 5
    assert all({'ts', 'level', 'event', 'logger'} <= set(e) for e in events)
    job_lines = [e for e in events if e['event'].startswith('job_')]
    assert job_lines and all(e['job_id'] == body['job_id'] for e in job_lines)
    access = [e for e in events if e['logger'] == 'bloodq.access']
    assert access and all({'method', 'path', 'status', 'duration_ms', 'request_id'} <= set(e) for e in access)
    assert any(e['request_id'] == body['request_id'] for e in access)
