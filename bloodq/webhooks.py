"""Webhooks: refuse unsafe callback URLs at submit, deliver signed POSTs with retries.

Delivery state lives with the job (in Redis or the journal) and due deliveries sit in a
schedule every dispatcher shares, each taken under a short lease: a dispatcher killed mid
POST leaves the delivery to be retried by another. Bodies never carry more than the job's
own result (failures carry only the error code and message).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import random
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from bloodq import metrics
from bloodq.config import Settings
from bloodq.errors import Unprocessable
from bloodq.jobs import Job, JobStatus, iso, now_ms
from bloodq.logs import get_logger
from bloodq.queue.base import BACKEND_ERRORS, Queue

log = get_logger('bloodq.webhooks')

SIGNATURE_HEADER = 'X-Bloodq-Signature'
TIMESTAMP_HEADER = 'X-Bloodq-Timestamp'
_LEASE_MS = 60_000


class CallbackRefused(Unprocessable):
    """The callback URL is not allowed."""

    code = 'callback_refused'


async def check_callback(url: str, settings: Settings) -> str:
    """The URL if it is http(s) and resolves only to public addresses (unless allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ('http', 'https') or not parts.hostname or len(url) > 2048:
        raise CallbackRefused('callback must be an http or https URL')
    if settings.webhook_allow_private:
        return url
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443,
                                                              type=socket.SOCK_STREAM)
    except OSError:
        raise CallbackRefused(f'callback host {parts.hostname!r} does not resolve') from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise CallbackRefused('callbacks to loopback, private or link-local addresses are refused')
    return url


def sign(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of the body>`` — what ``X-Bloodq-Signature`` carries."""
    return 'sha256=' + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(job: Job, settings: Settings) -> dict[str, Any]:
    """The body POSTed for a finished job."""
    if job.status is JobStatus.COMPLETED:
        return {'job_id': job.id, 'status': 'completed',
                'report_url': f'{settings.public_url.rstrip("/")}/jobs/{job.id}/report.pdf' if job.has_report else None,
                'completed_at': iso(job.finished_ms), 'result': job.result}
    return {'job_id': job.id, 'status': 'failed', 'error': job.error, 'failed_at': iso(job.finished_ms),
            'retry_count': max(job.attempts - 1, 0)}


class WebhookDispatcher:
    """Delivers due webhooks from the shared schedule; runs beside a worker pool."""

    def __init__(self, queue: Queue, settings: Settings) -> None:
        self.queue = queue
        self.settings = settings
        self._http: aiohttp.ClientSession | None = None

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.settings.webhook_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            self._http = http
            while True:
                try:
                    due = await self.queue.claim_webhooks(10, _LEASE_MS)
                except BACKEND_ERRORS:
                    due = []
                if due:
                    # deliveries run side by side; none waits for another receiver
                    await asyncio.gather(*(self.deliver(job_id) for job_id in due), return_exceptions=True)
                else:
                    await asyncio.sleep(0.5)

    async def deliver(self, job_id: str) -> None:
        job = await self.queue.get(job_id)
        if job is None or not job.callback or not job.status.terminal:
            return
        state = dict(job.webhook or {})
        state.setdefault('first_ms', now_ms())
        state['attempts'] = int(state.get('attempts', 0)) + 1
        status = await self._post(job)
        state['last_status'] = status
        metrics.WEBHOOKS.labels('delivered' if isinstance(status, int) and 200 <= status < 300
                                else str(status) if isinstance(status, str) else f'http_{status}').inc()
        if isinstance(status, int) and 200 <= status < 300:
            state.update(done=True, delivered_ms=now_ms())
            next_ms = 0
            log.info('webhook_delivered', job_id=job.id, attempts=state['attempts'], http_status=status)
        elif now_ms() - state['first_ms'] > self.settings.webhook_retry_window_s * 1000 or status == 'refused':
            state.update(done=True, gave_up=True)
            next_ms = 0
            log.warning('webhook_gave_up', job_id=job.id, attempts=state['attempts'], last_status=status)
        else:
            delay_s = self.settings.webhook_retry_base_s * 2 ** (state['attempts'] - 1) * random.uniform(0.8, 1.2)
            next_ms = now_ms() + int(delay_s * 1000)
            state['next_ms'] = next_ms
            log.info('webhook_retry', job_id=job.id, attempts=state['attempts'], last_status=status,
                     retry_in_s=round(delay_s, 1))
        await self.queue.webhook_outcome(job.id, state, next_ms)

    async def _post(self, job: Job) -> int | str:
        """The receiver's HTTP status, or a word for what went wrong instead."""
        assert self._http is not None
        try:
            await check_callback(job.callback, self.settings)  # again: DNS may have changed since submit
        except CallbackRefused:
            return 'refused'
        body = orjson.dumps(payload(job, self.settings))
        headers = {'Content-Type': 'application/json', TIMESTAMP_HEADER: str(int(time.time())),
                   'User-Agent': 'bloodq-webhook/1'}
        if self.settings.webhook_secret:
            headers[SIGNATURE_HEADER] = sign(body, self.settings.webhook_secret)
        try:
            async with self._http.post(job.callback, data=body, headers=headers, allow_redirects=False) as r:
                return r.status
        except TimeoutError:
            return 'timeout'
        except aiohttp.ClientError as exc:
            return type(exc).__name__
