"""The queue contract: every test runs against the memory and the Redis backend."""

from __future__ import annotations

import asyncio
import time

import pytest

from bloodq.errors import Conflict, JobTimeout, NotFound, QueueFull, WorkerCrashed
from bloodq.jobs import Job, JobStatus, Priority
from bloodq.queue.base import Lease, Queue

PDF = b'%PDF-1.4 test upload'


async def submit(q: Queue, priority: Priority = Priority.NORMAL) -> Job:
    return await q.enqueue(PDF, query='q', file_name='r.pdf', priority=priority)


async def until(predicate, timeout_s: float = 5.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError('condition not met before the deadline')


async def test_enqueue_then_claim_hands_out_the_job_once(queue: Queue) -> None:
    """A queued job is claimed by exactly one consumer, with attempts=1 and a token."""
    job = await submit(queue)
    assert (await queue.get(job.id)).status is JobStatus.QUEUED  # type: ignore[union-attr]
    assert await queue.get_upload(job.id) == PDF
    first = await queue.claim('w1', 5)
    second = await queue.claim('w2', 5)
    assert [j.id for j in first] == [job.id] and second == []
    assert first[0].attempts == 1 and first[0].token and first[0].status is JobStatus.PROCESSING


async def test_complete_stores_result_and_report_and_drops_upload(queue: Queue) -> None:
    """Completing stores the result and report, ends the job and deletes the upload."""
    job = await submit(queue)
    [claimed] = await queue.claim('w', 1)
    assert await queue.complete(claimed, {'status': 'success', 'n': 1}, b'%PDF report')
    done = await queue.get(job.id)
    assert done is not None and done.status is JobStatus.COMPLETED
    assert done.result == {'status': 'success', 'n': 1} and done.has_report
    assert await queue.get_report(job.id) == b'%PDF report'
    assert await queue.get_upload(job.id) is None


async def test_position_counts_higher_priorities_first_and_ends_when_claimed(queue: Queue) -> None:
    """position() is 1-based in claim order: high before normal before low; None once the job is claimed."""
    normal = [await submit(queue) for _ in range(3)]
    low = await submit(queue, Priority.LOW)
    high = await submit(queue, Priority.HIGH)
    assert [await queue.position(j) for j in (high, *normal, low)] == [1, 2, 3, 4, 5]
    [first] = await queue.claim('w', 1)
    assert first.id == high.id and await queue.position(high) is None
    assert await queue.position(normal[0]) == 1


async def test_report_drawn_later_is_kept_only_for_a_completed_job(queue: Queue) -> None:
    """Completing with report b'' promises a report; store_report keeps it for a completed job, never for others."""
    waiting = await submit(queue)
    assert not await queue.store_report(waiting.id, b'%PDF early')
    assert await queue.get_report(waiting.id) is None
    [claimed] = await queue.claim('w', 1)
    assert await queue.complete(claimed, {'status': 'success'}, b'')
    done = await queue.get(waiting.id)
    assert done is not None and done.has_report and await queue.get_report(waiting.id) is None
    assert await queue.store_report(waiting.id, b'%PDF later')
    assert await queue.get_report(waiting.id) == b'%PDF later'
    await queue.delete(waiting.id)
    assert not await queue.store_report(waiting.id, b'%PDF too late')
    assert await queue.get_report(waiting.id) is None


async def test_complete_and_claim_finishes_one_job_and_hands_out_the_next(queue: Queue) -> None:
    """complete_and_claim stores the result and claims the next job in one step; n=0 claims nothing."""
    first, second, third = [await submit(queue) for _ in range(3)]
    [claimed] = await queue.claim('w', 1)
    ok, following = await queue.complete_and_claim(claimed, {'n': 1}, None, 'w', 1)
    assert ok and [j.id for j in following] == [second.id]
    assert following[0].status is JobStatus.PROCESSING and following[0].token and following[0].attempts == 1
    done = await queue.get(first.id)
    assert done is not None and done.status is JobStatus.COMPLETED and done.result == {'n': 1}
    ok, following = await queue.complete_and_claim(following[0], {'n': 2}, None, 'w', 0)
    assert ok and following == []
    assert (await queue.get(third.id)).status is JobStatus.QUEUED  # type: ignore[union-attr]


async def test_stale_attempt_cannot_overwrite_the_current_one(queue: Queue, settings) -> None:  # type: ignore[no-untyped-def]
    """After a lease lapses and the job is re-claimed, the old token is refused everywhere."""
    job = await submit(queue)
    [old] = await queue.claim('w1', 1)
    await _expire_lease(queue, old)
    assert await queue.sweep() == [job.id]
    [new] = await queue.claim('w2', 1)
    assert new.attempts == 2 and new.token != old.token
    assert await queue.heartbeat(old) is Lease.LOST
    assert not await queue.complete(old, {'stale': True}, None)
    assert await queue.complete(new, {'fresh': True}, None)
    final = await queue.get(job.id)
    assert final is not None and final.result == {'fresh': True} and final.attempts == 2


async def _expire_lease(queue: Queue, job: Job) -> None:
    """Wait until the job's lease (2 s in tests) has lapsed."""
    await until(lambda: _lapsed(queue, job), timeout_s=queue.settings.lease_s + 3)


async def _lapsed(queue: Queue, job: Job) -> bool:
    current = await queue.get(job.id)
    return current is not None and current.lease_until_ms < time.time() * 1000 - 5


async def test_transient_failure_is_retried_with_backoff_then_fails(queue: Queue) -> None:
    """Transient failures go back to the queue until MAX_RETRIES, then the job fails."""
    job = await submit(queue)
    for attempt in range(queue.settings.max_retries):
        [claimed] = await until(lambda: queue.claim('w', 1))
        assert claimed.attempts == attempt + 1
        assert await queue.fail(claimed, JobTimeout()) is JobStatus.QUEUED
    [last] = await until(lambda: queue.claim('w', 1))
    assert await queue.fail(last, JobTimeout()) is JobStatus.FAILED
    failed = await queue.get(job.id)
    assert failed is not None and failed.error == {'code': 'timeout', 'message': JobTimeout().message}


async def test_repeated_worker_crashes_end_as_poison(queue: Queue) -> None:
    """A job whose analysis keeps crashing ends failed with code poison."""
    job = await submit(queue)
    status = None
    while status is not JobStatus.FAILED:
        [claimed] = await until(lambda: queue.claim('w', 1))
        status = await queue.fail(claimed, WorkerCrashed())
    failed = await queue.get(job.id)
    assert failed is not None and failed.error is not None and failed.error['code'] == 'poison'


async def test_lapsed_leases_become_poison_after_max_retries(queue: Queue) -> None:
    """A job whose workers keep dying is redelivered MAX_RETRIES times, then failed as poison."""
    job = await submit(queue)
    for _ in range(queue.settings.max_retries + 1):
        [claimed] = await until(lambda: queue.claim('w', 1))
        await _expire_lease(queue, claimed)
        await until(lambda: queue.sweep())
    final = await queue.get(job.id)
    assert final is not None and final.status is JobStatus.FAILED
    assert final.error is not None and final.error['code'] == 'poison'


async def test_permanent_failure_fails_at_once_and_can_be_retried(queue: Queue) -> None:
    """A permanent failure ends the job; POST retry puts the dead letter back to work."""
    from bloodq.errors import EncryptedPdf

    job = await submit(queue)
    [claimed] = await queue.claim('w', 1)
    assert await queue.fail(claimed, EncryptedPdf()) is JobStatus.FAILED
    failed_jobs, _ = await queue.list_jobs(JobStatus.FAILED, 10, None)
    assert [j.id for j in failed_jobs] == [job.id]
    again = await queue.retry(job.id)
    assert again.status is JobStatus.QUEUED and again.error is None
    [reclaimed] = await queue.claim('w', 1)
    assert reclaimed.id == job.id and reclaimed.attempts == 2


async def test_cancel_queued_is_immediate_and_running_is_flagged(queue: Queue) -> None:
    """Cancelling a queued job ends it; a running one learns it through its heartbeat."""
    waiting = await submit(queue)
    running = await submit(queue)
    [claimed] = await queue.claim('w', 1)
    assert claimed.id == waiting.id
    # the first job is now running, the second waits
    cancelled = await queue.cancel(running.id)
    assert cancelled.status is JobStatus.CANCELLED
    assert await queue.claim('w', 1) == []
    await queue.cancel(waiting.id)
    assert await queue.heartbeat(claimed) is Lease.CANCEL
    assert await queue.cancelled(claimed)
    assert (await queue.get(waiting.id)).status is JobStatus.CANCELLED  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        await queue.cancel(waiting.id)


async def test_delete_erases_everything(queue: Queue) -> None:
    """DELETE removes record, upload and result; the running attempt's lease is lost."""
    job = await submit(queue)
    [claimed] = await queue.claim('w', 1)
    await queue.delete(job.id)
    assert await queue.get(job.id) is None and await queue.get_upload(job.id) is None
    assert await queue.heartbeat(claimed) is Lease.LOST
    assert not await queue.complete(claimed, {}, None)
    assert await queue.get(job.id) is None
    with pytest.raises(NotFound):
        await queue.delete(job.id)


async def test_high_priority_jumps_the_queue_and_low_is_not_starved(queue: Queue) -> None:
    """High jobs are claimed before normal ones; low ones still get every 10th claim."""
    normals = [await submit(queue) for _ in range(30)]
    low = await submit(queue, Priority.LOW)
    high = await submit(queue, Priority.HIGH)
    assert await queue.position(high) == 1
    assert await queue.position(normals[0]) == 2
    claimed = [j.id for _ in range(12) for j in await queue.claim('w', 1)]
    assert claimed[0] == high.id
    assert low.id in claimed


async def test_backpressure_refuses_beyond_max_queue_size(queue: Queue) -> None:
    """Once MAX_QUEUE_SIZE jobs wait, enqueue raises QueueFull and nothing is dropped."""
    object.__setattr__(queue.settings, 'max_queue_size', 3)
    jobs = [await submit(queue) for _ in range(3)]
    with pytest.raises(QueueFull):
        await submit(queue)
    assert (await queue.stats())['queue_length'] == 3
    assert all([await queue.get(j.id) for j in jobs])


async def test_release_puts_the_job_back_at_the_head(queue: Queue) -> None:
    """A job released at shutdown is next in line and not counted as a failure."""
    first = await submit(queue)
    await submit(queue)
    [claimed] = await queue.claim('w', 1)
    assert await queue.release(claimed)
    assert await queue.position(first) == 1
    [again] = await queue.claim('w', 1)
    assert again.id == first.id and again.failures == 0


async def test_wait_returns_when_the_job_finishes(queue: Queue) -> None:
    """wait() wakes on completion instead of polling to the deadline."""
    job = await submit(queue)
    waiter = asyncio.create_task(queue.wait(job.id, 10))
    [claimed] = await queue.claim('w', 1)
    started = time.monotonic()
    await queue.complete(claimed, {'ok': 1}, None)
    finished = await waiter
    assert finished is not None and finished.status is JobStatus.COMPLETED
    assert time.monotonic() - started < 2


async def test_wait_for_work_wakes_on_enqueue(queue: Queue) -> None:
    """A consumer blocked on an empty queue wakes when a job arrives."""
    waiter = asyncio.create_task(queue.wait_for_work(10))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await submit(queue)
    await asyncio.wait_for(waiter, 5)
    assert time.monotonic() - started < 2


async def test_list_jobs_pages_newest_first(queue: Queue) -> None:
    """Listing pages through jobs newest first with a cursor."""
    ids = []
    for _ in range(5):
        ids.append((await submit(queue)).id)
        await asyncio.sleep(0.002)
    page, cursor = await queue.list_jobs(None, 3, None)
    assert [j.id for j in page] == ids[::-1][:3] and cursor is not None
    rest, end = await queue.list_jobs(None, 3, cursor)
    assert [j.id for j in rest] == ids[::-1][3:] and end is None


async def test_stats_counts_and_consumers(queue: Queue) -> None:
    """Stats show waiting, processing, live consumers and totals."""
    await submit(queue)
    await submit(queue, Priority.HIGH)
    await queue.claim('w', 1)
    await queue.register_consumers({'host:1:0': {'host': 'host', 'pid': 1, 'job_id': None}})
    stats = await queue.stats()
    assert stats['queue_length'] == 1 and stats['processing'] == 1 and stats['workers'] == 1
    assert stats['jobs_by_status']['queued'] == 1 and stats['jobs_by_status']['processing'] == 1
    assert stats['totals']['submitted'] == 2
    await queue.unregister_consumers(['host:1:0'])
    assert (await queue.stats())['workers'] == 0


async def test_cancelling_a_consumer_blocked_on_the_queue_stops_it(queue: Queue) -> None:
    """A task cancelled inside a blocking queue call really stops (redis-py may swallow the cancel)."""
    for _ in range(20):
        waiter = asyncio.create_task(queue.wait_for_work(5))
        looper = asyncio.create_task(_claim_forever(queue))
        await asyncio.sleep(0.01)
        waiter.cancel()
        looper.cancel()
        done, _ = await asyncio.wait([waiter, looper], timeout=3)
        assert len(done) == 2


async def _claim_forever(queue: Queue) -> None:
    while True:
        await queue.claim('w', 1)
        await asyncio.sleep(0)  # the memory backend never suspends inside claim
