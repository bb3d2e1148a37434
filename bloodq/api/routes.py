"""Request handlers: thin translations between HTTP and the queue."""

from __future__ import annotations

import math
import time
from typing import Any

import orjson
from aiohttp import web

from bloodq import metrics
from bloodq.api import openapi
from bloodq.api.upload import read_submission
from bloodq.config import Settings
from bloodq.errors import BadRequest, NotFound, Unprocessable
from bloodq.jobs import Job, JobStatus, iso, now_ms
from bloodq.queue.base import Queue
from bloodq.tasks import ReportRenderer
from bloodq.webhooks import check_callback

routes = web.RouteTableDef()

QUEUE = web.AppKey('queue', Queue)
SETTINGS = web.AppKey('settings', Settings)
STARTED = web.AppKey('started', float)
RENDERER = web.AppKey('renderer', ReportRenderer)
REQUEST_ID = web.RequestKey('request_id', str)

#: used for estimates until the queue has timed a few real jobs
DEFAULT_JOB_S = 5.0
MAX_WAIT_S = 60.0


def _queue(request: web.Request) -> Queue:
    return request.app[QUEUE]


def _settings(request: web.Request) -> Settings:
    return request.app[SETTINGS]


def json(data: Any, status: int = 200, **kwargs: Any) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type='application/json', **kwargs)


async def _estimates(queue: Queue, position: int | None) -> dict[str, Any]:
    """Expected wait from recent job durations and the live consumer count."""
    stats = await queue.recent_stats()
    recent = stats['recent_durations_ms']
    job_s = (sum(recent) / len(recent) / 1000) if recent else DEFAULT_JOB_S
    consumers = max(stats['workers'], 1)
    rounds = math.ceil(position / consumers) if position else 1
    return {
        'estimated_processing_time': round(job_s * rounds, 1),
        'estimated_completion': iso(now_ms() + int(job_s * rounds * 1000)),
    }


async def _accept(request: web.Request) -> tuple[Job, dict[str, Any]]:
    settings = _settings(request)
    submission = await read_submission(request, settings)
    key = request.headers.get('Idempotency-Key', '')
    if len(key) > 255:
        raise BadRequest('Idempotency-Key is limited to 255 characters', code='bad_idempotency_key')
    callback = await check_callback(submission.callback, settings) if submission.callback else ''
    queue = _queue(request)
    job, replayed = await queue.enqueue_once(
        submission.pdf, query=submission.query, file_name=submission.file_name, priority=submission.priority,
        request_id=request[REQUEST_ID], callback=callback, idempotency_key=key)
    position = await queue.position(job)
    body = {
        'status': job.status.value,
        'idempotent_replay': replayed,
        'job_id': job.id,
        'request_id': request[REQUEST_ID],
        'message': 'Report accepted; follow status_url for progress and the result.',
        'status_url': f'/status/{job.id}',
        'file_processed': job.file_name,
        'position_in_queue': position,
        'priority': job.priority.value,
        **await _estimates(queue, position),
        'processing_info': {'file_size_bytes': job.file_size_bytes, 'timestamp': iso(job.created_ms),
                            'mode': 'asynchronous'},
    }
    return job, body


@routes.post('/analyze-async')
async def analyze_async(request: web.Request) -> web.Response:
    _, body = await _accept(request)
    return json(body, status=200 if body['idempotent_replay'] else 202)


@routes.post('/analyze')
async def analyze_sync(request: web.Request) -> web.Response:
    """Queued like any other job; the request waits up to SYNC_TIMEOUT for the outcome."""
    job, body = await _accept(request)
    done = await _queue(request).wait(job.id, _settings(request).sync_timeout_s)
    if done is None or not done.status.terminal:
        body['message'] = 'Still running after SYNC_TIMEOUT; follow status_url.'
        return json(body, status=202)
    if done.status is JobStatus.COMPLETED:
        return json({**(done.result or {}), 'job_id': job.id})
    return json({'error': done.error or {'code': done.status.value, 'message': done.status.value},
                 'job_id': job.id, 'status': done.status.value}, status=422)


async def _status_body(queue: Queue, job: Job) -> dict[str, Any]:
    if job.status is not JobStatus.QUEUED:
        return job.public()
    position = await queue.position(job)
    if position is None:  # claimed between the two reads (or waiting out a retry delay): say what it is now
        fresh = await queue.get(job.id)
        if fresh is not None and fresh.status is not JobStatus.QUEUED:
            return fresh.public()
    body = job.public()
    body['position_in_queue'] = position
    body.update(await _estimates(queue, position))
    return body


@routes.get('/status/{job_id}')
@routes.get('/jobs/{job_id}')
async def status(request: web.Request) -> web.Response:
    _only_params(request, 'wait')
    queue = _queue(request)
    job = await queue.require(request.match_info['job_id'])
    wait_s = _float_param(request, 'wait', 0.0, MAX_WAIT_S)
    if wait_s > 0 and not job.status.terminal:
        job = await queue.wait(job.id, wait_s) or job
    return json(await _status_body(queue, job))


@routes.get('/jobs')
async def list_jobs(request: web.Request) -> web.Response:
    _only_params(request, 'status', 'limit', 'cursor')
    status_text = request.query.get('status')
    try:
        status = JobStatus(status_text) if status_text is not None else None
    except ValueError:
        raise BadRequest(f'status must be one of {", ".join(s.value for s in JobStatus)}',
                         code='bad_status') from None
    limit_text = request.query.get('limit', '20')
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 200:
        raise Unprocessable('limit must be a whole number from 1 to 200', code='bad_limit')
    limit = int(limit_text)
    cursor_text = request.query.get('cursor')
    if cursor_text is not None and not cursor_text.isdigit():
        raise BadRequest('cursor must be the next_cursor of a previous page', code='bad_cursor')
    jobs, cursor = await _queue(request).list_jobs(status, limit, int(cursor_text) if cursor_text else None)
    rows = [{k: v for k, v in j.public().items() if k != 'result'} for j in jobs]
    return json({'jobs': rows, 'next_cursor': str(cursor) if cursor is not None else None})


@routes.post('/jobs/{job_id}/cancel')
async def cancel(request: web.Request) -> web.Response:
    job = await _queue(request).cancel(request.match_info['job_id'])
    return json(await _status_body(_queue(request), job))


@routes.post('/jobs/{job_id}/retry')
async def retry(request: web.Request) -> web.Response:
    job = await _queue(request).retry(request.match_info['job_id'])
    return json(await _status_body(_queue(request), job), status=202)


@routes.delete('/jobs/{job_id}')
async def delete(request: web.Request) -> web.Response:
    job_id = request.match_info['job_id']
    await _queue(request).delete(job_id)
    return json({'job_id': job_id, 'deleted': True})


@routes.get('/jobs/{job_id}/report.pdf')
async def report(request: web.Request) -> web.Response:
    queue = _queue(request)
    job = await queue.require(request.match_info['job_id'])
    data = await queue.get_report(job.id) if job.has_report else None
    if data is None and job.has_report and job.status is JobStatus.COMPLETED and job.result is not None:
        data = await request.app[RENDERER].report(job)  # REPORT_PDF=on_demand: drawn at the first request
    if data is None:
        raise NotFound(f'job is {job.status.value}; the report exists once it has completed', code='no_report')
    return web.Response(body=data, content_type='application/pdf',
                        headers={'Content-Disposition': f'inline; filename="bloodq-{job.id}.pdf"'})


@routes.get('/queue/stats')
async def queue_stats(request: web.Request) -> web.Response:
    queue = _queue(request)
    stats = await queue.stats()
    recent = sorted(stats.pop('recent_durations_ms'))
    minute, totals = stats.get('last_minute', {}), stats.get('totals', {})
    ended = minute.get('completed', 0) + minute.get('failed', 0)
    finished = totals.get('completed', 0) + totals.get('failed', 0)
    healthy = stats.get('redis_up', True) and not stats.get('spooled')
    return json({
        'queue_enabled': True,
        'status': 'healthy' if healthy else 'degraded',
        **stats,
        'avg_processing_time_s': round(sum(recent) / len(recent) / 1000, 3) if recent else None,
        'p95_processing_time_s': round(recent[int(0.95 * (len(recent) - 1))] / 1000, 3) if recent else None,
        'throughput_last_minute': minute.get('completed', 0),
        'failure_rate_last_minute': round(minute.get('failed', 0) / ended, 4) if ended else 0.0,
        'failure_rate': round(totals.get('failed', 0) / finished, 4) if finished else 0.0,
        'queue_name': _settings(request).queue_name,
    })


@routes.get('/metrics')
async def prometheus(request: web.Request) -> web.Response:
    metrics.observe_queue(await _queue(request).stats())
    return web.Response(body=metrics.render(), content_type='text/plain', charset='utf-8',
                        headers={'X-Content-Type-Options': 'nosniff'})


@routes.get('/openapi.json')
async def openapi_document(request: web.Request) -> web.Response:
    return json(openapi.document())


@routes.get('/health')
async def health(request: web.Request) -> web.Response:
    return json({'status': 'ok', 'backend': _queue(request).backend,
                 'uptime_s': round(time.monotonic() - request.app[STARTED], 1)})


def _only_params(request: web.Request, *allowed: str) -> None:
    """Unknown query parameters are refused, like unknown form fields."""
    repeated = sorted(k for k in set(request.query) if len(request.query.getall(k)) > 1)
    if repeated:
        raise BadRequest(f'query parameter {repeated[0][:40]!a} is given more than once', code='repeated_parameter')
    unknown = sorted(set(request.query) - set(allowed))
    if unknown:
        raise BadRequest(f'unknown query parameter {unknown[0][:40]!a}; allowed: {", ".join(allowed) or "none"}',
                         code='unknown_parameter')


def _float_param(request: web.Request, name: str, default: float, maximum: float) -> float:
    raw = request.query.get(name)
    if raw is None or raw == '':
        return default
    try:
        value = float(raw)
    except ValueError:
        raise Unprocessable(f'{name} must be a number', code=f'bad_{name}') from None
    if not math.isfinite(value) or value < 0:
        raise Unprocessable(f'{name} must be a non-negative number', code=f'bad_{name}')
    return min(value, maximum)
