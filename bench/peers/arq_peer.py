"""arq: ``create_pool`` + ``enqueue_job``; ``Worker(max_jobs=10)``; variant ``poll10ms`` sets ``poll_delay=0.01``.

Completion = arq's ``after_job_end`` hook (runs after the result is recorded). A client
waits with ``Job.result(poll_delay=0.001)`` (arq polls the result key; 1 ms, not its 0.5 s default).
"""

from __future__ import annotations

from typing import Any

import common
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.jobs import Job
from arq.worker import Worker

SLOTS = 10


async def noop(ctx: dict[str, Any]) -> dict[str, bool]:
    common.job_started()
    return {'ok': True}


async def after_job_end(ctx: dict[str, Any]) -> None:
    common.job_done()


class ArqClient:
    def __init__(self, url: str, variant: str) -> None:
        self.settings = RedisSettings.from_dsn(url)
        self.pool: ArqRedis | None = None

    async def setup(self) -> None:
        self.pool = await create_pool(self.settings)

    async def enqueue(self) -> Job:
        assert self.pool is not None
        job = await self.pool.enqueue_job('noop')
        assert job is not None
        return job

    async def result(self, handle: Job, timeout_s: float) -> Any:
        return await handle.result(timeout=timeout_s, poll_delay=0.001)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()


def run_worker(url: str, variant: str) -> None:
    poll_delay = 0.01 if variant == 'poll10ms' else 0.5  # 0.5 s is arq's default
    worker = Worker(functions=[noop], redis_settings=RedisSettings.from_dsn(url), max_jobs=SLOTS,
                    poll_delay=poll_delay, after_job_end=after_job_end, handle_signals=True)
    worker.run()


if __name__ == '__main__':
    common.main(ArqClient, run_worker)
