"""saq: ``Queue.from_url`` + ``Queue.enqueue``; ``Worker(concurrency=10)``.

Completion = saq's ``after_process`` hook (runs after ``job.finish`` stored the result).
A client waits with ``Job.refresh(until_complete=...)`` (saq's pub/sub listener).
"""

from __future__ import annotations

import asyncio
from typing import Any

import common
from saq import Job, Queue, Worker

SLOTS = 10


async def noop(ctx: dict[str, Any]) -> dict[str, bool]:
    common.job_started()
    return {'ok': True}


async def after_process(ctx: dict[str, Any]) -> None:
    common.job_done()


class SaqClient:
    def __init__(self, url: str, variant: str) -> None:
        self.queue = Queue.from_url(url)

    async def setup(self) -> None:
        await self.queue.connect()

    async def enqueue(self) -> Job:
        job = await self.queue.enqueue('noop')
        assert job is not None
        return job

    async def result(self, handle: Job, timeout_s: float) -> Any:
        await handle.refresh(until_complete=timeout_s)
        if handle.status != 'complete':
            raise RuntimeError(f'job {handle.key} is {handle.status}')
        return handle.result

    async def close(self) -> None:
        await self.queue.disconnect()


async def _work(url: str) -> None:
    queue = Queue.from_url(url)
    await queue.connect()
    worker = Worker(queue, functions=[noop], concurrency=SLOTS, after_process=[after_process])
    await worker.start()  # stops on SIGTERM/SIGINT
    await queue.disconnect()


def run_worker(url: str, variant: str) -> None:
    asyncio.run(_work(url))


if __name__ == '__main__':
    common.main(SaqClient, run_worker)
