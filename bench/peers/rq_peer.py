"""rq: ``Queue.enqueue``; variant ``simple`` = ``SimpleWorker``, ``fork`` = the forking ``Worker``.

An rq worker runs one job at a time (rq has no in-process concurrency; its ``WorkerPool``
is several processes), so this is ONE worker with ONE slot. Completion = ``work(burst=True)``
returned (the queue is empty and every job's result is saved). A client waits with
``Job.latest_result(timeout=...)`` (a blocking XREAD on the job's result stream).
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import common
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.job import Job


def noop() -> dict[str, bool]:
    common.job_started()
    return {'ok': True}


class RqClient:
    def __init__(self, url: str, variant: str) -> None:
        self.connection = Redis.from_url(url)
        self.queue = Queue('bench', connection=self.connection)

    async def setup(self) -> None:
        return None

    async def enqueue(self) -> Job:
        return self.queue.enqueue('rq_peer.noop')

    async def result(self, handle: Job, timeout_s: float) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            found = handle.latest_result(timeout=1)  # seconds, at least 1: rq blocks on XREAD
            if found is not None:
                return found.return_value
            if time.monotonic() > deadline:
                raise TimeoutError(f'no result for {handle.id}')
            await asyncio.sleep(0)

    async def close(self) -> None:
        self.connection.close()


def run_worker(url: str, variant: str) -> None:
    connection = Redis.from_url(url)
    kind = Worker if variant == 'fork' else SimpleWorker
    queue = Queue('bench', connection=connection)
    worker = kind([queue], connection=connection)
    burst = common.expected_jobs() > 0
    worker.work(burst=burst, logging_level='WARNING')  # stops on SIGTERM/SIGINT (warm shutdown)
    if burst:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # rq's handler would raise StopRequested while we exit
        common.burst_done(queue.finished_job_registry.count)


if __name__ == '__main__':
    common.main(RqClient, run_worker)
