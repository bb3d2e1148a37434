"""A pool of consumer slots: claim, run under a heartbeat, finish; sweep; stop in two phases.

The same pool runs embedded in ``main.py`` and on its own in ``worker.py``. Each slot
runs one job at a time through a :class:`Handler`; a heartbeat task beside it renews the
lease, forwards progress and stops the job when a client cancels it or the lease is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bloodq.config import Settings
from bloodq.errors import JobFailure
from bloodq.jobs import Job, iso, now_ms
from bloodq.logs import get_logger
from bloodq.queue.base import BACKEND_ERRORS, Lease, Queue
from bloodq.webhooks import WebhookDispatcher

log = get_logger('bloodq.pool')



@dataclass(slots=True)
class JobContext:
    """What a handler may do besides returning: report progress."""

    job: Job
    queue: Queue
    slot_id: str

    async def progress(self, stage: str, pct: int) -> None:
        with contextlib.suppress(*BACKEND_ERRORS):
            await self.queue.heartbeat(self.job, stage=stage, progress=pct)


class Handler(Protocol):
    """Runs one job; raises :class:`JobFailure` for failures it understands."""

    async def __call__(self, job: Job, ctx: JobContext) -> tuple[dict[str, Any], bytes | None]: ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class _Slot:
    id: str
    handler: Handler
    task: asyncio.Task[None] | None = None
    job: Job | None = None
    work: asyncio.Task[tuple[dict[str, Any], bytes | None]] | None = None
    why_stopped: str = ''  #: 'cancel' | 'lost' | 'shutdown' when we stop the work ourselves
    claiming: bool = False


class WorkerPool:
    """``slots`` consumers sharing one queue, plus the sweep and the consumer heartbeat."""

    def __init__(self, queue: Queue, settings: Settings, handler_factory: Callable[[], Handler], *, slots: int,
                 name: str = 'worker') -> None:
        self.queue = queue
        self.settings = settings
        host = socket.gethostname()
        self.info = {'host': host, 'pid': os.getpid(), 'role': name}
        self.slots = [_Slot(f'{host}:{os.getpid()}:{name}:{i}', handler_factory()) for i in range(slots)]
        self._stopping = asyncio.Event()
        self._hurry = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []
        self.jobs_done = 0

    @property
    def busy(self) -> int:
        return sum(1 for s in self.slots if s.job is not None)

    async def start(self) -> None:
        for slot in self.slots:
            slot.task = asyncio.create_task(self._consume(slot), name=slot.id)
        self._background = [
            asyncio.create_task(self._every(self.settings.sweep_interval_s, self.queue.sweep), name='sweep'),
            asyncio.create_task(self._every(self.settings.heartbeat_s, self._announce), name='announce'),
            asyncio.create_task(WebhookDispatcher(self.queue, self.settings).run(), name='webhooks'),
        ]
        for slot in self.slots:
            warm = getattr(slot.handler, 'warm', None)
            if warm is not None:  # start analysis children now rather than on the first job
                self._background.append(asyncio.create_task(self._quietly(warm()), name='warm'))
        await self._announce()
        log.info('pool_started', slots=len(self.slots), backend=self.queue.backend)

    async def stop(self, grace_s: float | None = None) -> None:
        """Phase 1: stop claiming and let jobs finish for ``grace_s``; phase 2: stop and requeue."""
        grace_s = self.settings.shutdown_grace_s if grace_s is None else grace_s
        self._stopping.set()
        log.info('pool_stopping', running=self.busy, grace_s=grace_s)
        for slot in self.slots:
            # a slot inside a claim is left to finish it: cancelling there could strand a claimed job
            if slot.task and slot.job is None and not slot.claiming:
                slot.task.cancel()
        running = [s.task for s in self.slots if s.task and s.job is not None]
        if running and not self._hurry.is_set():
            loop = asyncio.get_running_loop()
            deadline = loop.time() + grace_s
            hurry = asyncio.create_task(self._hurry.wait())
            pending = set(running)
            while pending and not self._hurry.is_set() and loop.time() < deadline:
                done, _ = await asyncio.wait(pending | {hurry}, timeout=deadline - loop.time(),
                                             return_when=asyncio.FIRST_COMPLETED)
                pending -= done
            hurry.cancel()
        for slot in self.slots:
            if slot.work is not None and not slot.work.done():
                slot.why_stopped = 'shutdown'
                slot.work.cancel()
        tasks = [s.task for s in self.slots if s.task] + self._background
        for task in self._background:
            task.cancel()
        _, stuck = await asyncio.wait(tasks, timeout=10)
        if stuck:  # never hang a shutdown on a task that ignores its cancel
            log.error('pool_tasks_stuck_at_stop', tasks=sorted(t.get_name() for t in stuck))
        await asyncio.gather(*(s.handler.close() for s in self.slots), return_exceptions=True)
        with contextlib.suppress(*BACKEND_ERRORS):
            await self.queue.unregister_consumers([s.id for s in self.slots])
        log.info('pool_stopped', jobs_done=self.jobs_done)

    def hurry(self) -> None:
        """The second signal: end the grace period now; running jobs go back to the queue."""
        self._hurry.set()

    # --- the consumer loop ---------------------------------------------------------------

    async def _consume(self, slot: _Slot) -> None:
        delay_s = 0.1
        jobs: list[Job] = []  # the next job, when finishing the last one claimed it in the same round trip
        while not self._stopping.is_set():
            try:
                if not jobs:
                    slot.claiming = True
                    try:
                        jobs = await self.queue.claim(slot.id, 1)
                    finally:
                        slot.claiming = False
                if jobs and self._stopping.is_set():
                    break
                if not jobs:
                    await self.queue.wait_for_work(min(self.settings.heartbeat_s * 2, 2.0))
                    continue
                delay_s = 0.1
            except BACKEND_ERRORS as exc:
                log.warning('claim_failed', worker_id=slot.id, error=type(exc).__name__, retry_in_s=delay_s)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, 5.0)
                continue
            jobs = await self._run(slot, jobs[0])
        if jobs:  # stopping with a job claimed (by a claim or with the last completion): it goes back at once
            slot.claiming = True  # stop() leaves a slot holding a claim to finish this
            try:
                await self._settle(self.queue.release, jobs[0])
            finally:
                slot.claiming = False

    async def _run(self, slot: _Slot, job: Job) -> list[Job]:
        """Run ``job`` and write its outcome; returns the next job when the completion claimed one (stopping: none)."""
        slot.job, slot.why_stopped = job, ''
        following: list[Job] = []
        ctx = JobContext(job, self.queue, slot.id)
        slot.work = asyncio.create_task(slot.handler(job, ctx))
        # most jobs end before their first heartbeat is due: a timer is cheaper than a task per job
        beats: list[asyncio.Task[None]] = []
        timer = asyncio.get_running_loop().call_later(
            self.settings.heartbeat_s, lambda: beats.append(asyncio.create_task(self._heartbeat(slot, job))))
        try:
            result, report = await asyncio.shield(slot.work)
        except asyncio.CancelledError:
            if slot.work.done() and slot.work.cancelled():
                await self._stopped(slot, job)
            else:  # our own task was cancelled while the work runs: stop the work, requeue it
                slot.work.cancel()
                await asyncio.gather(slot.work, return_exceptions=True)
                await self._settle(self.queue.release, job)
                raise
        except JobFailure as failure:
            await self._settle(self.queue.fail, job, failure)
        except Exception as exc:  # a bug in a handler must not end the slot
            log.exception('job_handler_error', job_id=job.id, error=type(exc).__name__)
            internal = JobFailure('internal error while analysing', code='internal')
            await self._settle(self.queue.fail, job, internal)
        else:
            wanted = 0 if self._stopping.is_set() else 1
            outcome = await self._settle(self.queue.complete_and_claim, job, result, report, slot.id, wanted)
            following = outcome[1] if outcome is not None else []
            self.jobs_done += 1
        finally:
            timer.cancel()
            for beat in beats:
                beat.cancel()
            slot.job, slot.work = None, None
        return following

    async def _stopped(self, slot: _Slot, job: Job) -> None:
        """The work was cancelled by us: end it as the reason says."""
        if slot.why_stopped == 'cancel':
            await self._settle(self.queue.cancelled, job)
        elif slot.why_stopped == 'shutdown':
            await self._settle(self.queue.release, job)
        # 'lost': another attempt owns the job now; nothing of ours may touch it

    async def _heartbeat(self, slot: _Slot, job: Job) -> None:
        while True:
            try:
                lease = await self.queue.heartbeat(job)
            except BACKEND_ERRORS:
                lease = Lease.OK  # the lease outlives a short outage; the sweep handles a long one
            if lease is not Lease.OK and slot.work is not None:
                slot.why_stopped = lease.value
                log.info('job_stopping', job_id=job.id, reason=lease.value)
                slot.work.cancel()
                return
            await asyncio.sleep(self.settings.heartbeat_s)

    async def _settle(self, op: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """Write a job's outcome, retrying through a Redis hiccup for up to one lease; returns what ``op``
        returned, or None when it could not be written."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.lease_s
        delay_s = 0.1
        while True:
            try:
                return await op(*args)
            except BACKEND_ERRORS as exc:
                if loop.time() > deadline:
                    # the lease lapses next and the sweep hands the job to another attempt
                    log.error('job_outcome_not_written', error=type(exc).__name__)
                    return None
                log.warning('job_outcome_retry', error=type(exc).__name__, retry_in_s=delay_s)
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 2.0)

    # --- upkeep ----------------------------------------------------------------------------

    async def _announce(self) -> None:
        seen = iso(now_ms())
        await self.queue.register_consumers({
            s.id: {**self.info, 'job_id': s.job.id if s.job else None, 'last_heartbeat': seen} for s in self.slots
        })

    async def _quietly(self, op: Awaitable[Any]) -> None:
        try:
            await op
        except Exception as exc:  # noqa: BLE001 -- warming is an optimisation; the first job retries it
            log.warning('warm_up_failed', error=type(exc).__name__)

    async def _every(self, interval_s: float, fn: Callable[[], Awaitable[Any]]) -> None:
        while True:
            try:
                await fn()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 -- keep upkeep alive through outages
                log.warning('upkeep_failed', task=getattr(fn, '__name__', '?'), error=type(exc).__name__)
            await asyncio.sleep(interval_s)
