"""The in-memory backend: asyncio structures in this process, for running without Redis.

Every primitive runs without an ``await`` between its reads and writes, so each is
atomic on the event loop just as a Lua script is atomic in Redis. With a
:class:`~bloodq.storage.Journal`, accepted uploads and their records are on disk before
the client hears 202, finished records keep their result there until RESULT_TTL, and a
restart requeues whatever had not finished.
"""

from __future__ import annotations

import asyncio
import heapq
import uuid
from collections import deque
from dataclasses import replace
from typing import Any

import orjson

from bloodq.config import Settings
from bloodq.errors import QueueFull
from bloodq.jobs import PRIORITIES, TERMINAL, Job, JobStatus, Priority, now_ms
from bloodq.logs import get_logger
from bloodq.queue.base import LOW_PRIORITY_EVERY, Lease, Queue
from bloodq.storage import Journal

log = get_logger('bloodq.queue.memory')

_RECENT_DURATIONS = 100


class MemoryQueue(Queue):
    """Jobs, uploads and results in dicts; waiting lists as deques."""

    backend = 'memory'

    def __init__(self, settings: Settings, journal: Journal | None = None) -> None:
        super().__init__(settings)
        self.journal = journal
        self.jobs: dict[str, Job] = {}
        self.uploads: dict[str, bytes] = {}
        self.results: dict[str, bytes] = {}
        self.reports: dict[str, bytes] = {}
        self.waiting: dict[Priority, deque[str]] = {p: deque() for p in PRIORITIES}
        self.processing: dict[str, int] = {}  # id -> lease deadline (ms)
        self.scheduled: list[tuple[int, str]] = []  # heap of (run_at_ms, id)
        self.consumers: dict[str, dict[str, Any]] = {}
        self.counts: dict[str, int] = {}
        self.durations_ms: deque[int] = deque(maxlen=_RECENT_DURATIONS)
        self.recent: deque[tuple[int, str]] = deque()  # (finished ms, status) over the last minute
        self.claims = 0
        self.idempotency: dict[str, tuple[str, int]] = {}  # key hash -> (job id, expires ms)
        self.webhooks: dict[str, int] = {}  # job id -> next delivery attempt (ms)
        self._work = asyncio.Event()

    async def connect(self) -> None:
        """Reload the journal: finished jobs as they were, unfinished ones back in line."""
        if self.journal is None:
            return
        restored = 0
        for job in sorted(self.journal.records(), key=lambda j: j.created_ms):
            if job.result is not None:
                self.results[job.id] = orjson.dumps(job.result)
                job.result = None
            self.jobs[job.id] = job
            if job.status in TERMINAL:
                state = job.webhook or {}
                if job.callback and job.status is not JobStatus.CANCELLED and not state.get('done'):
                    self.webhooks[job.id] = int(state.get('next_ms', 0))
                continue
            # it was waiting or running when the process stopped: run it (again)
            self._back_to_waiting(job, 0, job.error, failed=job.status is JobStatus.PROCESSING)
            restored += 1
        if restored:
            log.info('journal_restored', requeued=restored, total=len(self.jobs))

    # --- primitives --------------------------------------------------------------------

    async def _enqueue(self, job: Job, upload: bytes, idempotency_key: str) -> str | None:
        if idempotency_key:
            seen = self.idempotency.get(idempotency_key)
            if seen is not None and seen[1] > now_ms() and seen[0] in self.jobs:
                return seen[0]
        if self._waiting_count() >= self.settings.max_queue_size:
            raise QueueFull(f'{self.settings.max_queue_size} jobs are waiting; try again shortly')
        if self.journal is not None:
            # on disk before the 202: the upload (fsynced, off the loop), then its record
            await asyncio.to_thread(self.journal.save_upload, job.id, upload)
            if self._waiting_count() >= self.settings.max_queue_size:
                self.journal.drop_upload(job.id)
                raise QueueFull(f'{self.settings.max_queue_size} jobs are waiting; try again shortly')
            self.journal.save_record(job, sync=True)
        else:
            self.uploads[job.id] = upload
        self.jobs[job.id] = job
        if idempotency_key:
            self.idempotency[idempotency_key] = (job.id, now_ms() + self.settings.result_ttl_s * 1000)
        self.waiting[job.priority].append(job.id)
        self._count('submitted')
        self._work.set()
        return None

    async def wait_for_work(self, timeout_s: float) -> None:
        if self._waiting_count() or self._due_scheduled():
            return
        self._work.clear()
        try:
            await asyncio.wait_for(self._work.wait(), timeout_s)
        except TimeoutError:
            pass

    async def _claim(self, worker_id: str, n: int, lease_ms: int) -> list[Job]:
        now = now_ms()
        self._promote_scheduled(now)
        claimed: list[Job] = []
        while len(claimed) < n:
            job_id = self._pop_next()
            if job_id is None:
                break
            job = self.jobs.get(job_id)
            if job is None or job.status is not JobStatus.QUEUED:
                continue
            job.status = JobStatus.PROCESSING
            job.attempts += 1
            job.token = f'{worker_id}/{job.attempts}/{uuid.uuid4().hex[:8]}'
            job.worker_id = worker_id
            job.started_ms = job.updated_ms = now
            job.lease_until_ms = now + lease_ms
            job.progress, job.stage = 0, ''
            self.processing[job_id] = job.lease_until_ms
            self._persist(job)  # so attempts survive a restart
            claimed.append(_copy(job))
        return claimed

    async def _touch(self, job: Job, lease_ms: int, stage: str | None, progress: int | None) -> Lease:
        current = self._current(job)
        if current is None:
            return Lease.LOST
        current.lease_until_ms = now_ms() + lease_ms
        self.processing[job.id] = current.lease_until_ms
        if stage is not None:
            current.stage = stage
        if progress is not None:
            current.progress = progress
        return Lease.CANCEL if current.cancel_requested else Lease.OK

    async def _finish(
        self, job: Job, status: JobStatus, *, result: bytes | None = None, report: bytes | None = None,
        error: dict[str, str] | None = None,
    ) -> bool:
        current = self._current(job)
        if current is None:
            return False
        self.processing.pop(job.id, None)
        if current.started_ms is not None and status is JobStatus.COMPLETED:
            self.durations_ms.append(now_ms() - current.started_ms)
        if report is not None:
            current.has_report = True
        if report:
            if self.journal is not None:
                self.journal.save_report(job.id, report)
            else:
                self.reports[job.id] = report
        if result is not None:
            self.results[job.id] = result
        self._end(current, status, error)
        return True

    async def _requeue(self, job: Job, *, run_at_ms: int, error: dict[str, str] | None) -> bool:
        current = self._current(job)
        if current is None:
            return False
        self.processing.pop(job.id, None)
        self._back_to_waiting(current, run_at_ms, error, failed=error is not None)
        return True

    async def _cancel(self, job_id: str) -> None:
        job = self.jobs.get(job_id)
        if job is None or job.status in TERMINAL:
            return
        if job.status is JobStatus.PROCESSING:
            job.cancel_requested = True
            job.updated_ms = now_ms()
            return
        self._unlist(job_id)
        self._end(job, JobStatus.CANCELLED, {'code': 'cancelled', 'message': 'cancelled by request'})

    async def _delete(self, job_id: str) -> None:
        self._unlist(job_id)
        self.processing.pop(job_id, None)
        for store in (self.jobs, self.uploads, self.results, self.reports):
            store.pop(job_id, None)
        if self.journal is not None:
            self.journal.delete(job_id)

    async def _revive(self, job_id: str) -> bool:
        job = self.jobs.get(job_id)
        if job is None or job.status not in (JobStatus.FAILED, JobStatus.CANCELLED) or not await self.get_upload(job_id):
            return False
        job.failures, job.cancel_requested, job.finished_ms = 0, False, None
        self._back_to_waiting(job, 0, None, failed=False)
        return True

    # --- reads ---------------------------------------------------------------------------

    async def get(self, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        if job is None:
            return None
        out = _copy(job)
        raw = self.results.get(job_id)
        out.result = orjson.loads(raw) if raw is not None else None
        return out

    async def get_upload(self, job_id: str) -> bytes | None:
        if self.journal is not None and job_id in self.jobs:
            return await asyncio.to_thread(self.journal.load_upload, job_id)
        return self.uploads.get(job_id)

    async def get_report(self, job_id: str) -> bytes | None:
        if self.journal is not None and job_id in self.jobs:
            return await asyncio.to_thread(self.journal.load_report, job_id)
        return self.reports.get(job_id)

    async def store_report(self, job_id: str, report: bytes) -> bool:
        current = self.jobs.get(job_id)
        if current is None or current.status is not JobStatus.COMPLETED:
            return False
        if self.journal is None:
            self.reports[job_id] = report
        else:
            await asyncio.to_thread(self.journal.save_report, job_id, report)
            if job_id not in self.jobs:  # deleted while the file was written
                await asyncio.to_thread(self.journal.delete, job_id)
                return False
        return True

    async def position(self, job: Job) -> int | None:
        ahead = 0
        for priority in PRIORITIES:
            ids = self.waiting[priority]
            if priority is job.priority:
                try:
                    return ahead + list(ids).index(job.id) + 1
                except ValueError:
                    return None
            ahead += len(ids)
        return None

    async def list_jobs(self, status: JobStatus | None, limit: int, cursor: int | None) -> tuple[list[Job], int | None]:
        rows = [
            j for j in self.jobs.values()
            if (status is None or j.status is status) and (cursor is None or j.created_ms < cursor)
        ]
        rows.sort(key=lambda j: j.created_ms, reverse=True)
        page = [_copy(j) for j in rows[:limit]]
        return page, (page[-1].created_ms if len(rows) > limit else None)

    async def stats(self) -> dict[str, Any]:
        now = now_ms()
        by_status = {s.value: 0 for s in JobStatus}
        for job in self.jobs.values():
            by_status[job.status.value] += 1
        live = {k: v for k, v in self.consumers.items() if v['seen_ms'] > now - self.settings.lease_s * 1000}
        return {
            'backend': self.backend,
            'queue_length': self._waiting_count(),
            'queue_length_by_priority': {p.value: len(self.waiting[p]) for p in PRIORITIES},
            'scheduled': len(self.scheduled),
            'processing': len(self.processing),
            'workers': len(live),
            'consumers': [{'id': k, **v} for k, v in sorted(live.items())],
            'jobs_by_status': by_status,
            'totals': dict(self.counts),
            'recent_durations_ms': list(self.durations_ms),
            'last_minute': self._last_minute(now),
        }

    def _last_minute(self, now: int) -> dict[str, int]:
        while self.recent and self.recent[0][0] < now - 60_000:
            self.recent.popleft()
        counts: dict[str, int] = {}
        for _, status in self.recent:
            counts[status] = counts.get(status, 0) + 1
        return counts

    # --- upkeep --------------------------------------------------------------------------

    async def _sweep(self) -> list[str]:
        now = now_ms()
        recovered: list[str] = []
        for job_id, lease_until in list(self.processing.items()):
            if lease_until > now:
                continue
            self.processing.pop(job_id)
            job = self.jobs.get(job_id)
            if job is None:
                continue
            recovered.append(job_id)
            self._count('recovered')
            if job.failures >= self.settings.max_retries:
                self._end(job, JobStatus.FAILED, {'code': 'poison', 'message': 'the job stopped its workers too often'})
            else:
                self._back_to_waiting(job, 0, {'code': 'lease_expired', 'message': 'its worker stopped answering'},
                                      failed=True)
        expired_before = now - self.settings.result_ttl_s * 1000
        for job_id, job in list(self.jobs.items()):
            if job.status in TERMINAL and (job.finished_ms or now) < expired_before:
                await self._delete(job_id)
        return recovered

    async def claim_webhooks(self, n: int, lease_ms: int) -> list[str]:
        now = now_ms()
        due = [job_id for job_id, at in self.webhooks.items() if at <= now][:n]
        for job_id in due:
            if job_id in self.jobs:
                self.webhooks[job_id] = now + lease_ms
            else:
                self.webhooks.pop(job_id)
        return due

    async def webhook_outcome(self, job_id: str, state: dict[str, Any], next_ms: int) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            self.webhooks.pop(job_id, None)
            return
        job.webhook = state
        self._persist(job)
        if next_ms:
            self.webhooks[job_id] = next_ms
        else:
            self.webhooks.pop(job_id, None)

    async def register_consumers(self, consumers: dict[str, dict[str, Any]]) -> None:
        now = now_ms()
        for consumer_id, info in consumers.items():
            self.consumers[consumer_id] = {**info, 'seen_ms': now}

    async def unregister_consumers(self, ids: list[str]) -> None:
        for consumer_id in ids:
            self.consumers.pop(consumer_id, None)

    # --- helpers -------------------------------------------------------------------------

    def _current(self, job: Job) -> Job | None:
        current = self.jobs.get(job.id)
        if current is None or current.token != job.token or current.status is not JobStatus.PROCESSING:
            return None
        return current

    def _end(self, job: Job, status: JobStatus, error: dict[str, str] | None) -> None:
        job.status = status
        job.finished_ms = job.updated_ms = now_ms()
        job.error = error if status is not JobStatus.COMPLETED else None
        job.lease_until_ms = 0
        if status is not JobStatus.FAILED:  # failed jobs keep the upload so they can be retried
            self.uploads.pop(job.id, None)
            if self.journal is not None:
                self.journal.drop_upload(job.id)
        self._count(status.value)
        self.recent.append((now_ms(), status.value))
        if job.callback and status is not JobStatus.CANCELLED:
            self.webhooks[job.id] = now_ms()
        self._persist(job)
        self._notify_done(job.id)

    def _back_to_waiting(self, job: Job, run_at_ms: int, error: dict[str, str] | None, *, failed: bool) -> None:
        job.status = JobStatus.QUEUED
        job.updated_ms = now_ms()
        job.lease_until_ms = 0
        job.run_at_ms = run_at_ms
        job.error = error
        if failed:
            job.failures += 1
            self._count('retried')
        if run_at_ms > now_ms():
            heapq.heappush(self.scheduled, (run_at_ms, job.id))
        else:
            self.waiting[job.priority].appendleft(job.id)
        self._persist(job)
        self._work.set()

    def _persist(self, job: Job) -> None:
        """Keep the journal's record in step (with the result once there is one)."""
        if self.journal is None:
            return
        raw = self.results.get(job.id)
        self.journal.save_record(replace(job, result=orjson.loads(raw)) if raw is not None else job)

    def _pop_next(self) -> str | None:
        self.claims += 1
        order: tuple[Priority, ...] = PRIORITIES
        if self.claims % LOW_PRIORITY_EVERY == 0:
            order = (Priority.LOW, Priority.HIGH, Priority.NORMAL)
        for priority in order:
            if self.waiting[priority]:
                return self.waiting[priority].popleft()
        return None

    def _due_scheduled(self) -> bool:
        return bool(self.scheduled) and self.scheduled[0][0] <= now_ms()

    def _promote_scheduled(self, now: int) -> None:
        while self.scheduled and self.scheduled[0][0] <= now:
            _, job_id = heapq.heappop(self.scheduled)
            job = self.jobs.get(job_id)
            if job is not None and job.status is JobStatus.QUEUED:
                self.waiting[job.priority].appendleft(job_id)

    def _unlist(self, job_id: str) -> None:
        for ids in self.waiting.values():
            try:
                ids.remove(job_id)
            except ValueError:
                pass
        self.scheduled = [(t, i) for t, i in self.scheduled if i != job_id]
        heapq.heapify(self.scheduled)

    def _waiting_count(self) -> int:
        return sum(len(ids) for ids in self.waiting.values()) + len(self.scheduled)

    def _count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1


def _copy(job: Job) -> Job:
    """A detached copy, so callers never mutate the stored record."""
    return replace(job)
