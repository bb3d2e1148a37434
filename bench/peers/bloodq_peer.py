"""bloodq's Redis queue as a library: ``RedisQueue`` + ``WorkerPool`` (10 slots), run by the project's interpreter.

The worker is the real consumer path: claims under a lease with fencing tokens, a heartbeat
task per job, the sweep, the consumer announcements and the webhook dispatcher all run.
Completion = ``Queue.complete_and_claim`` reported the result stored (the slot's next job comes back
in the same script);
a client waits through ``Queue.wait`` (pub/sub on ``<queue>:done``, then one read).
Logging is configured as ``worker.py`` does (``setup_logging``), at ``BENCH_LOG_LEVEL``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / 'tests')]

import common
from handlers import NoopTask

from bloodq.config import Settings
from bloodq.jobs import Job, JobStatus
from bloodq.logs import setup_logging
from bloodq.pool import JobContext, WorkerPool
from bloodq.queue.redis import RedisQueue

SLOTS = 10


def settings(url: str) -> Settings:
    """Defaults (lease 30 s, heartbeat 1 s, sweep 5 s), no queue cap, no log file."""
    return Settings.from_env({}, redis_url=url, queue_backend='redis', max_queue_size=10**7, log_dir='',
                             log_level=os.environ.get('BENCH_LOG_LEVEL', 'warning'))


class TimedNoop(NoopTask):
    """tests.handlers.NoopTask, marking the first job's start."""

    async def __call__(self, job: Job, ctx: JobContext) -> tuple[dict[str, Any], bytes | None]:
        common.job_started()
        return await super().__call__(job, ctx)


class CountingQueue(RedisQueue):
    """Counts completions the pool got through (the FINISH or FINISH_CLAIM script stored the result)."""

    async def complete_and_claim(self, job: Job, result: dict[str, Any], report: bytes | None, worker_id: str,
                                 n: int) -> tuple[bool, list[Job]]:
        ok, jobs = await super().complete_and_claim(job, result, report, worker_id, n)
        if ok:
            common.job_done()
        return ok, jobs


class BloodqClient:
    def __init__(self, url: str, variant: str) -> None:
        self.settings = settings(url)
        setup_logging(None, 'api.log', self.settings.log_level)
        self.queue = RedisQueue(self.settings, listen=True)

    async def setup(self) -> None:
        await self.queue.connect()

    async def enqueue(self) -> Job:
        return await self.queue.enqueue(b'', query='noop', file_name='bench.pdf')

    async def result(self, handle: Job, timeout_s: float) -> Any:
        job = await self.queue.wait(handle.id, timeout_s)
        if job is None or job.status is not JobStatus.COMPLETED:
            raise RuntimeError(f'job {handle.id} is {job.status if job else "gone"}')
        return job.result

    async def close(self) -> None:
        await self.queue.close()


async def _work(url: str) -> None:
    cfg = settings(url)
    setup_logging(None, 'worker.log', cfg.log_level)
    queue = CountingQueue(cfg)
    await queue.connect()
    pool = WorkerPool(queue, cfg, lambda: TimedNoop(queue, cfg), slots=SLOTS, name='bench')
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await pool.start()
    await stop.wait()
    await pool.stop(5)
    await queue.close()


def run_worker(url: str, variant: str) -> None:
    asyncio.run(_work(url))


if __name__ == '__main__':
    common.main(BloodqClient, run_worker)
