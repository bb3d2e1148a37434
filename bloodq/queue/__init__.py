"""One queue interface (:class:`Queue`) and its two backends, picked by :func:`open_queue`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bloodq.queue.base import BACKEND_ERRORS, Lease, Queue

if TYPE_CHECKING:
    from bloodq.config import Settings

__all__ = ['BACKEND_ERRORS', 'Lease', 'Queue', 'open_queue']


async def open_queue(settings: Settings, *, listen: bool = False) -> Queue:
    """The backend ``QUEUE_BACKEND`` asks for; ``auto`` falls back to memory without Redis.

    Raises :class:`~bloodq.errors.Unavailable` when Redis is required but does not answer.
    """
    from bloodq.errors import Unavailable
    from bloodq.logs import get_logger
    from bloodq.queue.memory import MemoryQueue
    from bloodq.queue.redis import RedisQueue
    from bloodq.storage import Journal

    log = get_logger('bloodq.queue')
    if settings.queue_backend == 'memory':
        queue: Queue = MemoryQueue(settings, Journal(settings.data_path / 'journal'))
        await queue.connect()
        return queue
    redis_queue = RedisQueue(settings, listen=listen, spool=Journal(settings.data_path / 'spool') if listen else None)
    try:
        await redis_queue.connect()
    except BACKEND_ERRORS as exc:
        await redis_queue.close()
        if settings.queue_backend == 'redis':
            raise Unavailable(f'Redis at {_safe_url(settings.redis_url)} does not answer: {type(exc).__name__}') from exc
        log.warning('redis_unavailable_using_memory', redis_url=_safe_url(settings.redis_url),
                    error=type(exc).__name__)
        memory = MemoryQueue(settings, Journal(settings.data_path / 'journal'))
        await memory.connect()
        return memory
    policy = await redis_queue.eviction_policy()
    if policy not in (None, 'noeviction'):
        log.warning('redis_may_evict_jobs', maxmemory_policy=policy, advice='set maxmemory-policy noeviction')
    return redis_queue


def _safe_url(url: str) -> str:
    """The URL without its password, for logs and messages."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f':{parts.password}@', ':***@')
        return parts._replace(netloc=netloc).geturl()
    return url
