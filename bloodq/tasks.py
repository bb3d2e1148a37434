"""bloodq's work in child processes: analyse an uploaded report, and draw a report PDF on demand."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from typing import Any

import orjson

from bloodq.config import Settings
from bloodq.errors import JobFailure
from bloodq.jobs import Job
from bloodq.logs import get_logger
from bloodq.pool import Handler, JobContext
from bloodq.queue.base import Queue
from bloodq.runner import AnalysisChild

log = get_logger('bloodq.tasks')


class AnalysisTask:
    """A pool handler that owns one analysis child (recycled every ``max_tasks_per_child``)."""

    def __init__(self, queue: Queue, settings: Settings) -> None:
        self.queue = queue
        self.child = AnalysisChild(settings)
        self.eager = settings.report_pdf == 'eager'

    async def __call__(self, job: Job, ctx: JobContext) -> tuple[dict[str, Any], bytes | None]:
        pdf = await self.queue.get_upload(job.id)
        if pdf is None:
            raise JobFailure('the upload is no longer stored', code='upload_missing')
        meta = {'job_id': job.id, 'query': job.query, 'file_name': job.file_name, 'render': self.eager}
        result, report = await self.child.run(meta, pdf, ctx.progress)
        result['report_url'] = f'/jobs/{job.id}/report.pdf'
        return result, report  # b'' unless eager: drawn when first asked for (ReportRenderer)

    async def warm(self) -> None:
        await self.child.ensure_started()

    async def close(self) -> None:
        await self.child.stop()


class ReportRenderer:
    """Draws the report PDF of a completed job from its stored result, once, in a child of its own.

    With ``REPORT_PDF=on_demand`` the analysis skips rendering (as costly as the text extraction),
    so only the reports somebody opens are drawn. The drawing is kept with the job, so later
    requests, and other API processes, read it back instead of drawing it again.
    """

    def __init__(self, queue: Queue, settings: Settings) -> None:
        self.queue = queue
        self.child = AnalysisChild(settings, role='render')
        self._lock = asyncio.Lock()  # one child, one drawing at a time

    async def report(self, job: Job) -> bytes:
        """The stored report of ``job`` (completed), drawn and kept first when there is none."""
        async with self._lock:
            stored = await self.queue.get_report(job.id)
            if stored is not None:
                return stored  # drawn while this request waited for the lock
            _, report = await self.child.run({'kind': 'render', 'job_id': job.id}, orjson.dumps(job.result),
                                             _no_progress)
            # under the lock, so a request waiting for it finds the stored copy
            await self.queue.store_report(job.id, report)
        log.info('report_drawn', job_id=job.id, bytes=len(report))
        return report

    async def warm(self) -> None:
        """Start the child ahead of the first request (it takes most of a second to import fpdf2)."""
        await self.child.ensure_started()

    async def close(self) -> None:
        await self.child.stop()


async def _no_progress(stage: str, progress: int) -> None:
    return None


def handler_factory(queue: Queue, settings: Settings) -> Callable[[], Handler]:
    """The pool's per-slot handler maker named by ``HANDLER`` (``module:callable``)."""
    module_name, _, attr = settings.handler.partition(':')
    factory = getattr(importlib.import_module(module_name), attr)
    return lambda: factory(queue, settings)
