"""Job handlers for queue tests, loaded by real processes through ``HANDLER=handlers:SleepTask``.

The job's query says what to do (``sleep:2.5``), so one test can mix quick and slow jobs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bloodq.config import Settings
from bloodq.jobs import Job
from bloodq.pool import JobContext
from bloodq.queue.base import Queue


class SleepTask:
    """Sleeps as long as the query asks, reporting progress, then returns a tiny result."""

    def __init__(self, queue: Queue, settings: Settings) -> None:
        self.queue = queue

    async def __call__(self, job: Job, ctx: JobContext) -> tuple[dict[str, Any], bytes | None]:
        seconds = float(job.query.split(':', 1)[1]) if job.query.startswith('sleep:') else 0.0
        await ctx.progress('parsing', 50)
        await asyncio.sleep(seconds)
        return {'status': 'success', 'slept_s': seconds, 'attempt': job.attempts}, None

    async def close(self) -> None:
        return None


class NoopTask(SleepTask):
    """Does nothing at all (queue benchmarks)."""

    async def __call__(self, job: Job, ctx: JobContext) -> tuple[dict[str, Any], bytes | None]:
        return {'ok': True}, None
