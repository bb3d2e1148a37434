"""Running the API process and the standalone worker process: signals, readiness, shutdown.

First SIGTERM/SIGINT: stop taking work, let running jobs finish within SHUTDOWN_GRACE_S,
then put the rest back at the head of the queue. A second signal ends the grace at once.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiohttp import web

from bloodq import metrics, sdnotify
from bloodq.api.app import POOL, create_app
from bloodq.config import Settings
from bloodq.errors import BloodqError
from bloodq.logs import get_logger, setup_logging
from bloodq.pool import WorkerPool
from bloodq.queue.redis import RedisQueue
from bloodq.tasks import handler_factory

log = get_logger('bloodq.service')


class Signals:
    """Counts SIGTERM/SIGINT: the first asks for a graceful stop, the second hurries it."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self._pool: WorkerPool | None = None

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._received, sig)

    def watch(self, pool: WorkerPool | None) -> None:
        self._pool = pool

    def _received(self, sig: signal.Signals) -> None:
        if self.stop.is_set():
            log.warning('second_signal_stopping_now', signal=sig.name)
            if self._pool is not None:
                self._pool.hurry()
            return
        log.info('signal_received_draining', signal=sig.name)
        sdnotify.stopping()
        self.stop.set()


async def serve_api(settings: Settings) -> None:
    """Serve HTTP (with the embedded pool) until a signal arrives."""
    signals = Signals()
    signals.install()
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    signals.watch(app.get(POOL))
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    log.info('api_listening', host=settings.host, port=settings.port, embedded_workers=settings.embedded_workers)
    sdnotify.ready()
    watchdog = asyncio.create_task(sdnotify.watchdog_loop(), name='sd-watchdog')
    await signals.stop.wait()
    await runner.cleanup()
    watchdog.cancel()
    log.info('api_stopped')


async def serve_worker(settings: Settings) -> int:
    """Consume from Redis until a signal arrives; 1 when Redis cannot be reached."""
    queue = RedisQueue(settings)
    try:
        await queue.connect()
    except Exception as exc:  # noqa: BLE001 -- any reason is reported in one line
        await queue.close()
        print(f'worker.py: cannot reach Redis at {settings.redis_url}: {type(exc).__name__}: {exc}', file=sys.stderr)
        return 1
    if settings.metrics_port:
        metrics.serve(settings.metrics_port, settings.metrics_host)
    signals = Signals()
    signals.install()
    pool = WorkerPool(queue, settings, handler_factory(queue, settings), slots=settings.worker_count,
                      name='worker')
    signals.watch(pool)
    await pool.start()
    sdnotify.ready()
    watchdog = asyncio.create_task(sdnotify.watchdog_loop(), name='sd-watchdog')
    await signals.stop.wait()
    await pool.stop()
    watchdog.cancel()
    await queue.close()
    return 0


def run(entry: str) -> int:
    """Entry point for ``main.py`` (``api``) and ``worker.py`` (``worker``)."""
    try:
        settings = Settings.from_env()
    except BloodqError as exc:
        print(f'{entry}: {exc}', file=sys.stderr)
        return 2
    setup_logging(settings.log_dir, 'blood_test_analyzer.log' if entry == 'api' else 'worker.log', settings.log_level)
    try:
        if entry == 'api':
            asyncio.run(serve_api(settings))
            return 0
        return asyncio.run(serve_worker(settings))
    except BloodqError as exc:
        print(f'{entry}: {exc}', file=sys.stderr)
        return 1
