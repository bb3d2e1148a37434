"""dramatiq: ``RedisBroker`` + ``Results(RedisBackend)``; ``actor.send``; ``Worker(worker_threads=10)``.

Completion = a middleware's ``after_process_message``, added after ``Results`` so it runs
once the result is stored. A client waits with ``Message.get_result(block=True)``.
The consumer keeps dramatiq's default idle back-off (up to ``worker_timeout`` = 1 s).
"""

from __future__ import annotations

import threading
from typing import Any

import common
import dramatiq
from dramatiq import Message, Middleware, Worker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.results import Results
from dramatiq.results.backends import RedisBackend

SLOTS = 10


class Done(Middleware):
    def after_process_message(self, broker: dramatiq.Broker, message: Message[Any], *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        common.job_done()


def make_broker(url: str) -> tuple[RedisBroker, dramatiq.Actor[..., Any]]:
    broker = RedisBroker(url=url)
    broker.add_middleware(Results(backend=RedisBackend(url=url)))
    broker.add_middleware(Done())
    dramatiq.set_broker(broker)

    @dramatiq.actor(actor_name='noop', store_results=True)
    def noop() -> dict[str, bool]:
        common.job_started()
        return {'ok': True}

    return broker, noop


class DramatiqClient:
    def __init__(self, url: str, variant: str) -> None:
        self.broker, self.noop = make_broker(url)

    async def setup(self) -> None:
        return None

    async def enqueue(self) -> Message[Any]:
        return self.noop.send()

    async def result(self, handle: Message[Any], timeout_s: float) -> Any:
        return handle.get_result(block=True, timeout=int(timeout_s * 1000))

    async def close(self) -> None:
        self.broker.close()


def run_worker(url: str, variant: str) -> None:
    broker, _ = make_broker(url)
    worker = Worker(broker, worker_threads=SLOTS)
    stop = threading.Event()
    common.stop_on_signals(stop.set)
    worker.start()
    while not stop.wait(0.5):
        pass
    worker.stop()
    broker.close()


if __name__ == '__main__':
    common.main(DramatiqClient, run_worker)
