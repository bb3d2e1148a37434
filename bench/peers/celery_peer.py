"""celery: ``app.send_task``; worker ``-P threads -c 10`` (10 slots in one process), Redis broker and result backend.

Completion = the ``task_success`` signal (sent after the backend stored the result).
A client waits with ``AsyncResult.get`` (the Redis backend's pub/sub result consumer).
Everything else is celery's default (prefetch multiplier 4, early ack, mingle/gossip on).
"""

from __future__ import annotations

from typing import Any

import common
from celery import Celery
from celery.result import AsyncResult
from celery.signals import task_success

SLOTS = 10


def make_app(url: str) -> Celery:
    app = Celery('bench', broker=url, backend=url)
    app.conf.broker_connection_retry_on_startup = True

    @app.task(name='noop')
    def noop() -> dict[str, bool]:
        common.job_started()
        return {'ok': True}

    return app


@task_success.connect
def _done(**_: Any) -> None:
    common.job_done()


class CeleryClient:
    def __init__(self, url: str, variant: str) -> None:
        self.app = make_app(url)

    async def setup(self) -> None:
        return None

    async def enqueue(self) -> AsyncResult:
        return self.app.send_task('noop')

    async def result(self, handle: AsyncResult, timeout_s: float) -> Any:
        return handle.get(timeout=timeout_s)

    async def close(self) -> None:
        self.app.close()


def run_worker(url: str, variant: str) -> None:
    app = make_app(url)
    app.worker_main(['worker', '--pool=threads', f'--concurrency={SLOTS}', '--loglevel=WARNING'])


if __name__ == '__main__':
    common.main(CeleryClient, run_worker)
