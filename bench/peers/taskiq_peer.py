"""taskiq + taskiq-redis: variant ``list`` = ``ListQueueBroker``, ``stream`` = ``RedisStreamBroker``.

Results go to ``RedisAsyncResultBackend``. The worker is taskiq's ``Receiver`` set up the way
``taskiq worker --max-async-tasks 10`` sets it up (a thread pool executor, default ack type).
Completion = a middleware's ``post_save`` (after the result is stored). A client waits with
``AsyncTaskiqTask.wait_result(check_interval=0.001)`` (taskiq polls; 1 ms, not its 0.2 s default).
"""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import common
from taskiq import AsyncBroker, AsyncTaskiqDecoratedTask, AsyncTaskiqTask, TaskiqMessage, TaskiqMiddleware, TaskiqResult
from taskiq.receiver import Receiver
from taskiq_redis import ListQueueBroker, RedisAsyncResultBackend, RedisStreamBroker

SLOTS = 10


class Done(TaskiqMiddleware):
    def post_save(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        common.job_done()


def make_broker(url: str, variant: str) -> tuple[AsyncBroker, AsyncTaskiqDecoratedTask[[], dict[str, bool]]]:
    kind = RedisStreamBroker if variant == 'stream' else ListQueueBroker
    broker = kind(url).with_result_backend(RedisAsyncResultBackend(redis_url=url)).with_middlewares(Done())

    @broker.task(task_name='noop')
    async def noop() -> dict[str, bool]:
        common.job_started()
        return {'ok': True}

    return broker, noop


class TaskiqClient:
    def __init__(self, url: str, variant: str) -> None:
        self.broker, self.noop = make_broker(url, variant)

    async def setup(self) -> None:
        await self.broker.startup()

    async def enqueue(self) -> AsyncTaskiqTask[dict[str, bool]]:
        return await self.noop.kiq()

    async def result(self, handle: AsyncTaskiqTask[dict[str, bool]], timeout_s: float) -> Any:
        result = await handle.wait_result(check_interval=0.001, timeout=timeout_s)
        return result.return_value

    async def close(self) -> None:
        await self.broker.shutdown()


async def _work(url: str, variant: str) -> None:
    broker, _ = make_broker(url, variant)
    broker.is_worker_process = True
    finish = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, finish.set)
    with ThreadPoolExecutor() as pool:
        receiver = Receiver(broker, executor=pool, max_async_tasks=SLOTS)
        await receiver.listen(finish)  # runs the broker's startup
    await broker.shutdown()


def run_worker(url: str, variant: str) -> None:
    asyncio.run(_work(url, variant))


if __name__ == '__main__':
    common.main(TaskiqClient, run_worker)
