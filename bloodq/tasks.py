"""bloodq's one job: analyse an uploaded report in a child process."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from bloodq.config import Settings
from bloodq.errors import JobFailure
from bloodq.jobs import Job
from bloodq.pool import Handler, JobContext
from bloodq.queue.base import Queue
from bloodq.runner import AnalysisChild


class AnalysisTask:
    """A pool handler that owns one analysis child (recycled every ``max_tasks_per_child``)."""

    def __init__(self, queue: Queue, settings: Settings) -> None:
        self.queue = queue
        self.child = AnalysisChild(settings)

    async def __call__(self, job: Job, ctx: JobContext) -> tuple[dict[str, Any], bytes | None]:
        pdf = await self.queue.get_upload(job.id)
        if pdf is None:
            raise JobFailure('the upload is no longer stored', code='upload_missing')
        meta = {'job_id': job.id, 'query': job.query, 'file_name': job.file_name}
        result, report = await self.child.run(meta, pdf, ctx.progress)
        result['report_url'] = f'/jobs/{job.id}/report.pdf'
        return result, report

    async def warm(self) -> None:
        await self.child.ensure_started()

    async def close(self) -> None:
        await self.child.stop()


def handler_factory(queue: Queue, settings: Settings) -> Callable[[], Handler]:
    """The pool's per-slot handler maker named by ``HANDLER`` (``module:callable``)."""
    module_name, _, attr = settings.handler.partition(':')
    factory = getattr(importlib.import_module(module_name), attr)
    return lambda: factory(queue, settings)
