"""The Redis backend: waiting lists, a lease ZSET and job hashes, changed by Lua scripts.

Keys (``P`` = ``<QUEUE_NAME>:``): the normal waiting list is ``<QUEUE_NAME>`` itself (so
``redis-cli llen blood_analysis_queue`` shows waiting jobs), then ``P high`` / ``P low``,
``P job:<id>`` (hash), ``P upload:<id>``, ``P result:<id>``, ``P report:<id>``,
``P processing`` (id → lease deadline), ``P scheduled`` (id → retry time), ``P idx:<status>``,
``P counts``, ``P consumers``, ``P notify`` (wake-up signals) and the channel ``P done``.
A job is never only in a client's memory: the claim moves it from a list to the lease
ZSET in one script, so a crash at any point leaves it where the sweep finds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from bloodq.config import Settings
from bloodq.errors import QueueFull, Unavailable
from bloodq.jobs import PRIORITIES, Job, JobStatus, Priority
from bloodq.logs import get_logger
from bloodq.queue import lua
from bloodq.queue.base import BACKEND_ERRORS, Lease, Queue
from bloodq.storage import Journal

log = get_logger('bloodq.queue.redis')

_INT_FIELDS = ('file_size_bytes', 'created_ms', 'updated_ms', 'attempts', 'failures', 'lease_until_ms', 'run_at_ms',
               'progress')
_OPTIONAL_INT_FIELDS = ('started_ms', 'finished_ms')
_CANCEL_ERROR = orjson.dumps({'code': 'cancelled', 'message': 'cancelled by request'})
_POISON_ERROR = orjson.dumps({'code': 'poison', 'message': 'the job stopped its workers too often'})
_LAPSED_ERROR = orjson.dumps({'code': 'lease_expired', 'message': 'its worker stopped answering'})


class _WaitingPool(aioredis.ConnectionPool):
    """redis-py's pool, except that when all ``max_connections`` are busy a command waits (up to
    ``wait_s``) for one to come back instead of failing with MaxConnectionsError, which reads as
    "Redis unreachable". redis-py's own BlockingConnectionPool does this too, but takes a condition
    and a timeout on every command, which cost 10-20 % of the queue's throughput."""

    wait_s = 10.0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._released = asyncio.Event()

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        deadline: float | None = None
        while True:
            try:
                return await super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]
            except RedisConnectionError as exc:
                if 'Too many connections' not in str(exc):  # MaxConnectionsError (redis-py < 6: its message)
                    raise
                now = asyncio.get_running_loop().time()
                deadline = deadline or now + self.wait_s
                if now >= deadline:
                    raise
                self._released.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(deadline - now):
                        await self._released.wait()

    async def release(self, connection: Any) -> None:
        await super().release(connection)
        self._released.set()


def connect_redis(url: str, max_connections: int = 64, **kwargs: Any) -> aioredis.Redis:
    """A client for ``url`` (``redis://``, ``rediss://``, passwords and ACL users in the URL).

    At most ``max_connections`` at once; past that, commands wait for a free one (``_WaitingPool``):
    redis-py's default pool raised at 100, which 100 concurrent uploads reached, and every upload
    then went to the outage spool.
    """
    pool = _WaitingPool.from_url(url, max_connections=max_connections, socket_connect_timeout=2, socket_timeout=15,
                                 health_check_interval=15, **kwargs)
    return aioredis.Redis.from_pool(pool)


class RedisQueue(Queue):
    """Jobs shared by every process that reaches the same Redis."""

    backend = 'redis'

    def __init__(self, settings: Settings, client: aioredis.Redis | None = None, *, listen: bool = False,
                 spool: Journal | None = None) -> None:
        super().__init__(settings)
        self.spool = spool  #: where accepted uploads wait while Redis is out of reach
        # redis-py's return types are unions of every RESP shape; we know each command's reply
        self.r: Any = client or connect_redis(settings.redis_url, settings.redis_max_connections)
        self.prefix = settings.key_prefix
        self._base_args = (self.prefix, settings.queue_name)
        self._scripts = {
            name: self.r.register_script(getattr(lua, name))
            for name in ('ENQUEUE', 'CLAIM', 'TOUCH', 'FINISH', 'FINISH_CLAIM', 'REQUEUE', 'CANCEL', 'DELETE', 'REVIVE', 'SWEEP',
                         'STORE_REPORT',
                         'REGISTER', 'STATS', 'WEBHOOK_CLAIM', 'WEBHOOK_DONE')
        }
        self._abandoned: set[asyncio.Future[Any]] = set()  #: cancelled blocking reads still finishing
        self._listen = listen
        self._listener: asyncio.Task[None] | None = None
        self._nonce = uuid.uuid4().hex[:8]

    async def _run(self, name: str, *args: Any) -> Any:
        return _cancel_check(await self._scripts[name](keys=[], args=[*self._base_args, *args]))

    # --- lifecycle -----------------------------------------------------------------------

    async def connect(self) -> None:
        await self.r.ping()
        if self._listen and self._listener is None:
            self._listener = asyncio.create_task(self._listen_done(), name='bloodq-done-listener')

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await super().close()
        await self.r.aclose()

    async def healthy(self) -> bool:
        try:
            return bool(await self.r.ping())
        except (RedisError, OSError):
            return False

    async def _listen_done(self) -> None:
        """Resolve local waiters when any process finishes a job (pub/sub, reconnecting)."""
        delay_s = 0.1
        while True:
            try:
                async with self.r.pubsub(ignore_subscribe_messages=True) as ps:
                    await ps.subscribe(f'{self.prefix}done')
                    delay_s = 0.1
                    async for message in ps.listen():
                        self._notify_done(message['data'].decode())
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError):
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, 5.0)

    async def _wait_done(self, job_id: str, fut: asyncio.Future[None]) -> None:
        # pub/sub can miss a message across a reconnect, so look at the record now and then
        while True:
            try:
                await asyncio.wait_for(asyncio.shield(fut), 1.0)
                return
            except TimeoutError:
                job = await self.get(job_id)
                if job is None or job.status.terminal:
                    return

    # --- primitives --------------------------------------------------------------------

    async def _enqueue(self, job: Job, upload: bytes, idempotency_key: str) -> str | None:
        try:
            created = await self._store(job, upload, limit=self.settings.max_queue_size, idem=idempotency_key)
        except BACKEND_ERRORS as exc:
            if self.spool is None:
                raise Unavailable('the queue is unreachable; try again shortly') from exc
            await asyncio.to_thread(self._spool_write, job, upload)
            log.warning('job_spooled_redis_unreachable', job_id=job.id, error=type(exc).__name__)
            return None
        if isinstance(created, bytes):
            return created.decode()
        if created == -1:
            raise QueueFull(f'{self.settings.max_queue_size} jobs are waiting; try again shortly')
        job.created_ms = job.updated_ms = int(created)
        return None

    async def _store(self, job: Job, upload: bytes, *, limit: int, created_ms: int = 0, idem: str = '') -> Any:
        """Run ENQUEUE; ``limit=-1`` adopts a spooled job (no cap, and never twice)."""
        # the record's text fields travel as one JSON array: redis-py encodes every argument in Python,
        # and that was most of an enqueue's client CPU with one argument per field
        texts = orjson.dumps([job.query, job.file_name, str(job.file_size_bytes), job.request_id, job.callback])
        return await self._run('ENQUEUE', job.id, job.priority.value, limit, upload, created_ms, idem,
                               self.settings.result_ttl_s, texts)

    def _spool_write(self, job: Job, upload: bytes) -> None:
        assert self.spool is not None
        self.spool.save_upload(job.id, upload)
        self.spool.save_record(job, sync=True)

    async def drain_spool(self) -> int:
        """Move jobs spooled during an outage into Redis, oldest first; returns how many."""
        if self.spool is None or not len(self.spool):
            return 0
        moved = 0
        for job in sorted(self.spool.records(), key=lambda j: j.created_ms):
            upload = self.spool.load_upload(job.id)
            if upload is not None:
                # adoption is idempotent: a crash before the delete below cannot enqueue it twice
                await self._store(job, upload, limit=-1, created_ms=job.created_ms)
            self.spool.delete(job.id)
            moved += 1
        log.info('spool_drained', jobs=moved)
        return moved

    async def upkeep(self) -> None:
        if self.spooled():
            await self.drain_spool()
        await super().upkeep()

    def spooled(self) -> int:
        return len(self.spool) if self.spool is not None else 0

    async def wait_for_work(self, timeout_s: float) -> None:
        # BLPOP runs in a task of its own: redis-py sometimes swallows a cancel that lands inside a
        # blocking command, and a consumer being stopped must not sit out the whole timeout
        blpop = asyncio.ensure_future(self.r.blpop([f'{self.prefix}notify'], timeout=max(timeout_s, 0.01)))
        try:
            await asyncio.wait({blpop})
        except asyncio.CancelledError:
            blpop.cancel()
            self._abandoned.add(blpop)  # ends by its timeout at the latest, then gives its connection back
            blpop.add_done_callback(_forget(self._abandoned))
            raise
        _cancel_check(blpop.result())

    async def _claim(self, worker_id: str, n: int, lease_ms: int) -> list[Job]:
        rows = await self._run('CLAIM', worker_id, n, lease_ms, self._nonce)
        return [_job_from_pairs(row) for row in rows]

    async def _touch(self, job: Job, lease_ms: int, stage: str | None, progress: int | None) -> Lease:
        state = await self._run('TOUCH', job.id, job.token, lease_ms, stage or '', progress or 0)
        return Lease(state.decode())

    async def _finish(
        self, job: Job, status: JobStatus, *, result: bytes | None = None, report: bytes | None = None,
        error: dict[str, str] | None = None,
    ) -> bool:
        return bool(await self._run('FINISH', *self._finish_args(job, status, result, report, error)))

    async def _finish_and_claim(self, job: Job, result: bytes, report: bytes | None, worker_id: str, n: int,
                                lease_ms: int) -> tuple[bool, list[Job]]:
        done, rows = await self._run('FINISH_CLAIM', *self._finish_args(job, JobStatus.COMPLETED, result, report, None),
                                     worker_id, n, lease_ms, self._nonce)
        return bool(done), [_job_from_pairs(row) for row in rows]

    def _finish_args(self, job: Job, status: JobStatus, result: bytes | None, report: bytes | None,
                     error: dict[str, str] | None) -> tuple[Any, ...]:
        err = orjson.dumps(error) if error else b''
        return (job.id, job.token, status.value, err, self.settings.result_ttl_s, result or b'', report or b'',
                '0' if report is None else '1')

    async def _requeue(self, job: Job, *, run_at_ms: int, error: dict[str, str] | None) -> bool:
        err = orjson.dumps(error) if error else b''
        return bool(await self._run('REQUEUE', job.id, job.token, run_at_ms, err, '1' if error else '0'))

    async def _cancel(self, job_id: str) -> None:
        await self._run('CANCEL', job_id, self.settings.result_ttl_s, _CANCEL_ERROR)

    async def _delete(self, job_id: str) -> None:
        await self._run('DELETE', job_id)

    async def _revive(self, job_id: str) -> bool:
        return bool(await self._run('REVIVE', job_id))

    # --- reads ---------------------------------------------------------------------------

    async def get(self, job_id: str) -> Job | None:
        try:
            async with self.r.pipeline(transaction=False) as pipe:
                pipe.hgetall(f'{self.prefix}job:{job_id}')
                pipe.get(f'{self.prefix}result:{job_id}')
                raw, result = _cancel_check(await pipe.execute())
        except BACKEND_ERRORS:
            if self.spool is None:
                raise
            raw, result = None, None
        if not raw:
            return self.spool.load_record(job_id) if self.spool is not None else None
        job = _job_from_dict(raw)
        if result is not None:
            job.result = orjson.loads(result)
        return job

    async def get_upload(self, job_id: str) -> bytes | None:
        data: bytes | None = await self.r.get(f'{self.prefix}upload:{job_id}')
        return data

    async def get_report(self, job_id: str) -> bytes | None:
        data: bytes | None = await self.r.get(f'{self.prefix}report:{job_id}')
        return data

    async def store_report(self, job_id: str, report: bytes) -> bool:
        return bool(await self._run('STORE_REPORT', job_id, report))

    def _list_key(self, priority: Priority) -> str:
        return self.settings.queue_name if priority is Priority.NORMAL else f'{self.prefix}{priority.value}'

    async def position(self, job: Job) -> int | None:
        try:
            return await self._position(job)
        except BACKEND_ERRORS:
            return None

    async def _position(self, job: Job) -> int | None:
        mine = PRIORITIES.index(job.priority)
        async with self.r.pipeline(transaction=False) as pipe:
            for priority in PRIORITIES[:mine]:
                pipe.llen(self._list_key(priority))
            # searched from the tail: a job just submitted is found at once, whatever waits ahead of it
            pipe.lpos(self._list_key(job.priority), job.id, rank=-1)
            *ahead, index = _cancel_check(await pipe.execute())
        return None if index is None else sum(int(n) for n in ahead) + int(index) + 1

    async def list_jobs(self, status: JobStatus | None, limit: int, cursor: int | None) -> tuple[list[Job], int | None]:
        key = f'{self.prefix}idx:{status.value if status else "all"}'
        top = f'({cursor}' if cursor is not None else '+inf'
        rows = await self.r.zrevrangebyscore(key, top, '-inf', start=0, num=limit + 1, withscores=True)
        async with self.r.pipeline(transaction=False) as pipe:
            for job_id, _ in rows[:limit]:
                pipe.hgetall(f'{self.prefix}job:{job_id.decode()}')
            records = await pipe.execute()
        jobs = [_job_from_dict(raw) for raw in records if raw]
        gone = [job_id for (job_id, _), raw in zip(rows, records, strict=False) if not raw]
        if gone:  # records expired before their index entry was pruned
            await self.r.zrem(key, *gone)
        next_cursor = int(rows[limit - 1][1]) if len(rows) > limit else None
        return jobs, next_cursor

    async def stats(self) -> dict[str, Any]:
        try:
            lengths, scheduled, processing, live, infos, by_status, counts, durations, recent = await self._run(
                'STATS', int(self.settings.lease_s * 1000))
        except BACKEND_ERRORS:
            return {'backend': self.backend, 'redis_up': False, 'spooled': self.spooled(),
                    'queue_length': self.spooled(), 'processing': 0, 'workers': 0, 'consumers': [],
                    'jobs_by_status': {}, 'totals': {}, 'recent_durations_ms': [], 'last_minute': {}}
        consumers = []
        for consumer_id, info in zip(live, infos, strict=True):
            consumers.append({'id': consumer_id.decode(), **(orjson.loads(info) if info else {})})
        names = ('queued', 'processing', 'completed', 'failed', 'cancelled')
        return {
            'backend': self.backend,
            'queue_length': sum(lengths) + scheduled,
            'queue_length_by_priority': {p.value: n for p, n in zip(PRIORITIES, lengths, strict=True)},
            'scheduled': scheduled,
            'processing': processing,
            'workers': len(live),
            'consumers': consumers,
            'jobs_by_status': dict(zip(names, by_status, strict=True)),
            'totals': {counts[i].decode(): int(counts[i + 1]) for i in range(0, len(counts), 2)},
            'recent_durations_ms': [int(d) for d in durations],
            'last_minute': dict(zip(('completed', 'failed', 'cancelled'), recent, strict=True)),
            'redis_up': True,
            'spooled': self.spooled(),
        }

    # --- upkeep --------------------------------------------------------------------------

    async def _sweep(self) -> list[str]:
        lock_ms = max(int(self.settings.sweep_interval_s * 900), 50)
        recovered = await self._run('SWEEP', lock_ms, self.settings.max_retries, self.settings.result_ttl_s,
                                    self._nonce, _POISON_ERROR, _LAPSED_ERROR)
        return [i.decode() for i in recovered or []]

    async def register_consumers(self, consumers: dict[str, dict[str, Any]]) -> None:
        ttl_s = max(int(self.settings.lease_s * 2), 5)
        args: list[Any] = [ttl_s]
        for consumer_id, info in consumers.items():
            args += [consumer_id, orjson.dumps(info)]
        await self._run('REGISTER', *args)

    async def unregister_consumers(self, ids: list[str]) -> None:
        if ids:
            await self.r.zrem(f'{self.prefix}consumers', *ids)
            await self.r.delete(*[f'{self.prefix}consumer:{i}' for i in ids])

    async def claim_webhooks(self, n: int, lease_ms: int) -> list[str]:
        return [i.decode() for i in await self._run('WEBHOOK_CLAIM', n, lease_ms)]

    async def webhook_outcome(self, job_id: str, state: dict[str, Any], next_ms: int) -> None:
        await self._run('WEBHOOK_DONE', job_id, orjson.dumps(state), next_ms)

    async def eviction_policy(self) -> str | None:
        """The server's ``maxmemory-policy`` (None when CONFIG is not allowed)."""
        try:
            policy = await self.r.config_get('maxmemory-policy')
        except RedisError:
            return None
        value = policy.get('maxmemory-policy')
        return value.decode() if isinstance(value, bytes) else value


def _forget(pending: set[asyncio.Future[Any]]) -> Callable[[asyncio.Future[Any]], None]:
    def done(fut: asyncio.Future[Any]) -> None:
        pending.discard(fut)
        if not fut.cancelled():
            fut.exception()  # retrieved: an abandoned read's error is of no interest
    return done


def _cancel_check(value: Any) -> Any:
    """Re-raise a cancellation that redis-py swallowed while a command was in flight.

    redis-py can return normally from an awaited command after ``task.cancel()`` (seen with
    7.x and 8.x when a socket timeout is set), which would leave a stopping loop running forever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
    return value


def _job_from_pairs(row: list[bytes]) -> Job:
    return _job_from_dict(dict(zip(row[::2], row[1::2], strict=True)))


def _job_from_dict(raw: dict[bytes, bytes]) -> Job:
    h = {k.decode(): v.decode() for k, v in raw.items()}
    job = Job(id=h['id'], query=h.get('query', ''), file_name=h.get('file_name', ''),
              file_size_bytes=int(h.get('file_size_bytes', 0)))
    for name in _INT_FIELDS:
        if h.get(name):
            setattr(job, name, int(h[name]))
    for name in _OPTIONAL_INT_FIELDS:
        if h.get(name):
            setattr(job, name, int(h[name]))
    job.status = JobStatus(h.get('status', 'queued'))
    job.priority = Priority(h.get('priority', 'normal'))
    job.token = h.get('token', '')
    job.worker_id = h.get('worker_id', '')
    job.stage = h.get('stage', '')
    job.request_id = h.get('request_id', '')
    job.cancel_requested = h.get('cancel_requested') == '1'
    job.has_report = h.get('has_report') == '1'
    job.callback = h.get('callback', '')
    if h.get('error'):
        job.error = orjson.loads(h['error'])
    if h.get('webhook'):
        job.webhook = orjson.loads(h['webhook'])
    return job
