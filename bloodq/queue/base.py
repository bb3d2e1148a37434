"""The queue interface: bookkeeping written once here, storage primitives in the backends.

Public methods (``enqueue``, ``claim``, ``complete``, ``fail`` ...) decide policy, keep
the log and call one small primitive (``_enqueue``, ``_claim``, ``_finish`` ...) that a
backend implements atomically. Every state change after a claim is *fenced*: it names
the attempt's token, and a backend refuses it when the token is no longer current, so a
worker that lost its lease cannot overwrite the attempt that replaced it.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from abc import ABC, abstractmethod
from enum import StrEnum
from typing import Any, ClassVar

import orjson
from redis.exceptions import RedisError

from bloodq import metrics
from bloodq.config import Settings
from bloodq.errors import Conflict, JobFailure, NotFound, Poison, WorkerCrashed
from bloodq.jobs import TERMINAL, Job, JobStatus, Priority, is_job_id, new_job_id, now_ms
from bloodq.logs import get_logger

log = get_logger('bloodq.queue')

#: what a backend raises when its server is out of reach
BACKEND_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)

#: every Nth claim looks at the low list first, so low jobs are never starved for good
LOW_PRIORITY_EVERY = 10


class Lease(StrEnum):
    """What a heartbeat learns about the attempt it renews."""

    OK = 'ok'
    CANCEL = 'cancel'  #: a client asked to cancel: stop the work, then call ``cancelled``
    LOST = 'lost'  #: the lease went to another attempt or the job was deleted: drop the work


class Queue(ABC):
    """A job queue with leases, fencing tokens, retries and retention."""

    backend: ClassVar[str]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._stats_cache: tuple[float, dict[str, Any]] | None = None

    # --- lifecycle -----------------------------------------------------------------------

    async def connect(self) -> None:  # noqa: B027 -- optional hook
        """Open connections and start background listeners."""

    async def close(self) -> None:
        """Release connections; wake every waiter."""
        for futures in self._waiters.values():
            for fut in futures:
                if not fut.done():
                    fut.set_result(None)
        self._waiters.clear()

    async def healthy(self) -> bool:
        """True while the backend can take and hand out jobs."""
        return True

    async def upkeep(self) -> None:
        """Periodic work of an API process: sweep (retention, lapsed leases) even with no local workers."""
        await self.sweep()

    # --- producer side -----------------------------------------------------------------

    async def enqueue(self, upload: bytes, **fields: Any) -> Job:
        """Store the upload and its job record, then make the job claimable.

        ``fields`` are :meth:`enqueue_once`'s keywords. Raises :class:`~bloodq.errors.QueueFull`
        when ``max_queue_size`` jobs wait.
        """
        job, _ = await self.enqueue_once(upload, **fields)
        return job

    async def enqueue_once(
        self,
        upload: bytes,
        *,
        query: str,
        file_name: str,
        priority: Priority = Priority.NORMAL,
        request_id: str = '',
        callback: str = '',
        idempotency_key: str = '',
    ) -> tuple[Job, bool]:
        """Like :meth:`enqueue`; a repeated ``idempotency_key`` (within RESULT_TTL) returns the first job.

        The second item is True when the job is such a replay.
        """
        job = Job(
            id=new_job_id(),
            query=query,
            file_name=file_name,
            file_size_bytes=len(upload),
            priority=priority,
            request_id=request_id,
            callback=callback,
        )
        key = hashlib.sha256(idempotency_key.encode()).hexdigest() if idempotency_key else ''
        existing = await self._enqueue(job, upload, key)
        if existing is not None:
            log.info('job_enqueue_replayed', job_id=existing, request_id=request_id)
            return await self.require(existing), True
        log.info('job_enqueued', job_id=job.id, request_id=request_id, bytes=len(upload), priority=priority.value)
        metrics.JOBS_SUBMITTED.labels(priority.value).inc()
        return job, False

    # --- consumer side -----------------------------------------------------------------

    async def claim(self, worker_id: str, n: int = 1) -> list[Job]:
        """Take up to ``n`` waiting jobs under a lease; each comes with a fresh token."""
        jobs = await self._claim(worker_id, n, int(self.settings.lease_s * 1000))
        self._log_claims(jobs, worker_id)
        return jobs

    @staticmethod
    def _log_claims(jobs: list[Job], worker_id: str) -> None:
        for job in jobs:
            log.info('job_claimed', job_id=job.id, worker_id=worker_id, attempt=job.attempts)

    @abstractmethod
    async def wait_for_work(self, timeout_s: float) -> None:
        """Return when a job may be claimable, or after ``timeout_s``."""

    async def heartbeat(self, job: Job, *, stage: str | None = None, progress: int | None = None) -> Lease:
        """Renew the lease of ``job``'s attempt and report progress."""
        return await self._touch(job, int(self.settings.lease_s * 1000), stage, progress)

    async def complete(self, job: Job, result: dict[str, Any], report: bytes | None) -> bool:
        """Finish the attempt as completed; False when the attempt was no longer current.

        ``report`` is the report PDF, ``b''`` when it is to be drawn when first asked for
        (then kept by :meth:`store_report`), or None when the job has none.
        """
        ok = await self._finish(job, JobStatus.COMPLETED, result=orjson.dumps(result), report=report)
        self._completed(job, result, ok)
        return ok

    async def complete_and_claim(self, job: Job, result: dict[str, Any], report: bytes | None, worker_id: str,
                                 n: int) -> tuple[bool, list[Job]]:
        """:meth:`complete`, then :meth:`claim` up to ``n`` jobs for ``worker_id`` (one round trip on Redis)."""
        ok, jobs = await self._finish_and_claim(job, orjson.dumps(result), report, worker_id, n,
                                                int(self.settings.lease_s * 1000))
        self._completed(job, result, ok)
        self._log_claims(jobs, worker_id)
        return ok, jobs

    def _completed(self, job: Job, result: dict[str, Any], ok: bool) -> None:
        self._log_finish(job, JobStatus.COMPLETED, ok)
        if ok:
            metrics.JOBS_COMPLETED.inc()
            metrics.observe_outcome(result, (now_ms() - (job.started_ms or now_ms())) / 1000)

    async def fail(self, job: Job, failure: JobFailure) -> JobStatus | None:
        """Retry a transient failure with backoff, or end the job as failed.

        Returns the job's new status, or None when the attempt was no longer current.
        """
        if failure.transient and job.failures < self.settings.max_retries:
            delay_s = self.settings.retry_backoff_s * 2**job.failures * random.uniform(0.5, 1.5)
            ok = await self._requeue(job, run_at_ms=now_ms() + int(delay_s * 1000), error=failure.to_dict())
            log.warning('job_retry_scheduled', job_id=job.id, code=failure.code, delay_s=round(delay_s, 2), ok=ok)
            if ok:
                metrics.JOBS_RETRIED.labels(failure.code).inc()
            return JobStatus.QUEUED if ok else None
        if failure.transient and isinstance(failure, WorkerCrashed):
            # the analysis keeps killing the process that runs it: stop redelivering
            failure = Poison(f'the analysis crashed its process {job.failures + 1} times')
        ok = await self._finish(job, JobStatus.FAILED, error=failure.to_dict())
        self._log_finish(job, JobStatus.FAILED, ok, code=failure.code)
        if ok:
            metrics.JOBS_FAILED.labels(failure.code).inc()
        return JobStatus.FAILED if ok else None

    async def cancelled(self, job: Job) -> bool:
        """End an attempt that stopped because a client cancelled it."""
        ok = await self._finish(job, JobStatus.CANCELLED, error={'code': 'cancelled', 'message': 'cancelled by request'})
        self._log_finish(job, JobStatus.CANCELLED, ok)
        if ok:
            metrics.JOBS_CANCELLED.inc()
        return ok

    async def release(self, job: Job) -> bool:
        """Put an attempt back at the head of its list (shutdown); not counted as a failure."""
        ok = await self._requeue(job, run_at_ms=0, error=None)
        log.info('job_released', job_id=job.id, ok=ok)
        return ok

    def _log_finish(self, job: Job, status: JobStatus, ok: bool, **extra: Any) -> None:
        if ok:
            log.info('job_finished', job_id=job.id, status=status.value, attempt=job.attempts, **extra)
        else:
            log.warning('job_finish_refused_stale_attempt', job_id=job.id, status=status.value, attempt=job.attempts)

    # --- clients -----------------------------------------------------------------------

    async def require(self, job_id: str) -> Job:
        """The job, or :class:`NotFound` (ids that are not uuid4 are never looked up)."""
        job = await self.get(job_id) if is_job_id(job_id) else None
        if job is None:
            raise NotFound(f'no job with id {job_id!r}' if is_job_id(job_id) else 'job ids are uuid4 strings')
        return job

    async def cancel(self, job_id: str) -> Job:
        """Cancel a queued job now; ask a running one to stop (its worker ends it)."""
        job = await self.require(job_id)
        if job.status in TERMINAL:
            raise Conflict(f'job is already {job.status.value}')
        await self._cancel(job_id)
        log.info('job_cancel_requested', job_id=job_id, was=job.status.value)
        return await self.require(job_id)

    async def delete(self, job_id: str) -> None:
        """Erase the job, its upload, result and report (a running attempt is stopped)."""
        await self.require(job_id)
        await self._delete(job_id)
        log.info('job_deleted', job_id=job_id)
        self._notify_done(job_id)

    async def retry(self, job_id: str) -> Job:
        """Queue a failed or cancelled job again (a dead letter back to work)."""
        job = await self.require(job_id)
        if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise Conflict(f'only failed or cancelled jobs can be retried, this one is {job.status.value}')
        if not await self._revive(job_id):
            raise Conflict('the upload of this job has expired; submit it again')
        log.info('job_retried_by_request', job_id=job_id)
        return await self.require(job_id)

    async def wait(self, job_id: str, timeout_s: float) -> Job | None:
        """The job once terminal, or as it stands after ``timeout_s``."""
        if timeout_s <= 0:
            return await self.get(job_id)
        # listen first, then look: a finish between the two cannot be missed, and one read suffices
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(job_id, []).append(fut)
        try:
            job = await self.get(job_id)
            if job is None or job.status in TERMINAL:
                return job
            try:
                await asyncio.wait_for(self._wait_done(job_id, fut), timeout_s)
            except TimeoutError:
                pass
        finally:
            futures = self._waiters.get(job_id, [])
            if fut in futures:
                futures.remove(fut)
            if not futures:
                self._waiters.pop(job_id, None)
        return await self.get(job_id)

    async def _wait_done(self, job_id: str, fut: asyncio.Future[None]) -> None:
        """Await the done signal; backends that can miss one re-check now and then."""
        await fut

    def _notify_done(self, job_id: str) -> None:
        for fut in self._waiters.pop(job_id, []):
            if not fut.done():
                fut.set_result(None)

    # --- primitives --------------------------------------------------------------------

    @abstractmethod
    async def _enqueue(self, job: Job, upload: bytes, idempotency_key: str) -> str | None:
        """Atomically store ``job`` and ``upload`` and append the id to its waiting list.

        With a (hashed) ``idempotency_key`` already used by a live job, store nothing and
        return that job's id.
        """

    @abstractmethod
    async def _claim(self, worker_id: str, n: int, lease_ms: int) -> list[Job]:
        """Atomically move up to ``n`` due jobs from waiting to processing, new tokens."""

    @abstractmethod
    async def _touch(self, job: Job, lease_ms: int, stage: str | None, progress: int | None) -> Lease:
        """Extend the lease when ``job.token`` is current."""

    @abstractmethod
    async def _finish(
        self, job: Job, status: JobStatus, *, result: bytes | None = None, report: bytes | None = None,
        error: dict[str, str] | None = None,
    ) -> bool:
        """Fenced move to a terminal status; stores result and report, starts retention."""

    async def _finish_and_claim(self, job: Job, result: bytes, report: bytes | None, worker_id: str, n: int,
                                lease_ms: int) -> tuple[bool, list[Job]]:
        """Complete ``job`` and claim the next ones; backends that can do both at once override this."""
        ok = await self._finish(job, JobStatus.COMPLETED, result=result, report=report)
        return ok, (await self._claim(worker_id, n, lease_ms) if n else [])

    @abstractmethod
    async def _requeue(self, job: Job, *, run_at_ms: int, error: dict[str, str] | None) -> bool:
        """Fenced move back to waiting: to the head now (``run_at_ms=0``) or scheduled."""

    @abstractmethod
    async def _cancel(self, job_id: str) -> None:
        """Cancel a waiting job, or flag a running one."""

    @abstractmethod
    async def _delete(self, job_id: str) -> None:
        """Remove everything stored about the job."""

    @abstractmethod
    async def _revive(self, job_id: str) -> bool:
        """Move a failed/cancelled job back to waiting; False when its upload is gone."""

    @abstractmethod
    async def get(self, job_id: str) -> Job | None:
        """The job record, with ``result`` filled in when completed."""

    @abstractmethod
    async def get_upload(self, job_id: str) -> bytes | None:
        """The uploaded PDF while the job is active (and while a failed job is kept)."""

    @abstractmethod
    async def get_report(self, job_id: str) -> bytes | None:
        """The rendered report PDF of a completed job."""

    @abstractmethod
    async def store_report(self, job_id: str, report: bytes) -> bool:
        """Keep a report drawn after the job completed, for as long as its record; False when it is gone."""

    @abstractmethod
    async def position(self, job: Job) -> int | None:
        """1-based place among waiting jobs in claim order; None when not waiting."""

    @abstractmethod
    async def list_jobs(self, status: JobStatus | None, limit: int, cursor: int | None) -> tuple[list[Job], int | None]:
        """Jobs newest first; ``cursor`` is the ``created_ms`` to continue below."""

    @abstractmethod
    async def stats(self) -> dict[str, Any]:
        """Counts and timings for ``/queue/stats``."""

    async def recent_stats(self, max_age_s: float = 1.0) -> dict[str, Any]:
        """:meth:`stats` read at most ``max_age_s`` ago: estimates on every submit need no fresher figures."""
        now = time.monotonic()
        if self._stats_cache is None or now - self._stats_cache[0] > max_age_s:
            self._stats_cache = (now, await self.stats())
        return self._stats_cache[1]

    async def sweep(self) -> list[str]:
        """Recover jobs whose lease lapsed (requeue, or fail as ``poison``); prune expired."""
        recovered = await self._sweep()
        for job_id in recovered:
            log.warning('job_lease_lapsed', job_id=job_id)
        metrics.LEASE_RECOVERIES.inc(len(recovered))
        return recovered

    @abstractmethod
    async def _sweep(self) -> list[str]:
        """One sweep; returns the ids it recovered."""

    @abstractmethod
    async def claim_webhooks(self, n: int, lease_ms: int) -> list[str]:
        """Up to ``n`` jobs whose webhook delivery is due, each leased for ``lease_ms``."""

    @abstractmethod
    async def webhook_outcome(self, job_id: str, state: dict[str, Any], next_ms: int) -> None:
        """Store the delivery state; ``next_ms`` = when to try again, 0 when done."""

    @abstractmethod
    async def register_consumers(self, consumers: dict[str, dict[str, Any]]) -> None:
        """Announce live consumers (id → host, pid, current job); repeat every heartbeat."""

    @abstractmethod
    async def unregister_consumers(self, ids: list[str]) -> None:
        """Forget consumers that stopped."""
