"""Shared fixtures: a real Redis-compatible server, queues on both backends, settings."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from procs import Proc
from redis_server import RedisServer

from bloodq.config import Settings
from bloodq.queue.base import Queue
from bloodq.queue.memory import MemoryQueue
from bloodq.queue.redis import RedisQueue, connect_redis
from bloodq.storage import Journal

SHARED_DATA = ROOT.parent / 'shared' / 'data'


def require_shared() -> Path:
    """The shared data folder; skipped only outside CI when it is absent."""
    if not SHARED_DATA.is_dir():
        if os.environ.get('CI'):
            pytest.fail(f'{SHARED_DATA} is missing in CI')
        pytest.skip('../shared/data is absent')
    return SHARED_DATA


@pytest.fixture(scope='session')
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {}, data_dir=str(tmp_path / 'data'), log_dir='', lease_s=2.0, sweep_interval_s=0.1, retry_backoff_s=0.05,
        queue_name=f'bq_test_{os.urandom(4).hex()}',
    )


@pytest.fixture(params=['memory', 'journal', 'redis'])
async def queue(request: pytest.FixtureRequest, settings: Settings, redis_server: RedisServer) -> AsyncIterator[Queue]:
    """The same contract tests run against each backend (memory with and without its journal)."""
    q: Queue
    if request.param == 'memory':
        q = MemoryQueue(settings)
    elif request.param == 'journal':
        q = MemoryQueue(settings, Journal(settings.data_path / 'journal'))
    else:
        q = RedisQueue(settings, connect_redis(redis_server.url), listen=True)
    await q.connect()
    yield q
    await q.close()


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    """Processes a test launches; each is stopped (SIGTERM, then SIGKILL) at teardown."""
    started: list[Proc] = []
    yield started
    for proc in started:
        proc.stop(10)
