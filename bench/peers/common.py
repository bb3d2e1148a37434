"""The measuring driver shared by every adapter in ``bench/peers`` (stdlib + redis-py only).

Each adapter script is run twice over: ``measure`` (the client side, by ``bench/queues.py``)
and ``worker`` (one worker process, started by ``measure``). It passes :func:`main` a client
factory and a worker function; the driver does the rest, the same way for every system:

* **e2e**: FLUSHALL, enqueue ``--jobs`` jobs (untimed), then start ONE worker process.
  The clock starts when the worker runs its first job (:func:`job_started`, called by the
  no-op task) and stops when the system reports its Nth completion (:func:`job_done`,
  called from the system's own after-the-result-is-stored hook, or :func:`burst_done`
  when a burst worker returns). Both sides use ``time.monotonic`` (CLOCK_MONOTONIC is
  system-wide on Linux), so the worker's start-up (imports, connecting) is not counted.
* **enqueue**: ``--jobs`` sequential enqueues from one client, no worker running.
* **latency**: an idle worker; ``--latency-n`` times: enqueue one job and wait until its
  result is readable through the system's own result API, then pause 2-12 ms (random).

Redis ``INFO commandstats`` deltas (``CONFIG RESETSTAT`` first) are recorded for the e2e
enqueue phase, the e2e drain and the enqueue run, so commands per job can be compared, and
so is CPU per job: the worker process's over the drain (``time.process_time`` + waited-for
children), the client's over the enqueue run, the Redis server's (``INFO cpu``) for both.
On a shared machine CPU per job is steadier than jobs/s.
The worker writes ``@@bench start|done`` lines to stdout with ``os.write`` (safe from
threads and from forked children); the result is one ``@@result {json}`` line.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import resource
import signal
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis

MARK = '@@bench'
RESULT_MARK = '@@result'

_started = False
_done = itertools.count(1)
_expect = int(os.environ.get('BENCH_EXPECT', '0'))


# --- worker side -------------------------------------------------------------------------

def _emit(*parts: object) -> None:
    os.write(1, (' '.join([MARK, *map(str, parts)]) + '\n').encode())


def cpu_s() -> float:
    """CPU seconds of this process, all its threads, and its children that were waited for."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def job_started() -> None:
    """Called by the no-op task: the first call marks the start of the drain."""
    global _started
    if not _started:
        _started = True
        _emit('start', repr(time.monotonic()), repr(cpu_s()), os.getpid())


def job_done() -> None:
    """Called from the system's completion hook; the ``BENCH_EXPECT``-th call ends the drain."""
    n = next(_done)  # itertools.count is atomic under the GIL: safe from worker threads
    if n == _expect:
        _emit('done', repr(time.monotonic()), n, repr(cpu_s()), os.getpid())


def burst_done(count: int) -> None:
    """For burst workers (rq): the work loop returned with ``count`` jobs done."""
    _emit('done', repr(time.monotonic()), count, repr(cpu_s()), os.getpid())


def expected_jobs() -> int:
    """How many jobs this worker process is expected to run (0: until stopped)."""
    return _expect


def stop_on_signals(stop: Callable[[], None]) -> None:
    """Call ``stop`` on SIGTERM or SIGINT (for workers that do not handle signals themselves)."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop())


# --- client side -------------------------------------------------------------------------

class Client(Protocol):
    """One producer connection of a system; ``result`` waits for a job's result."""

    async def setup(self) -> None: ...

    async def enqueue(self) -> Any: ...

    async def result(self, handle: Any, timeout_s: float) -> Any: ...

    async def close(self) -> None: ...


class Worker:
    """A worker process of the adapter script, and the ``@@bench`` lines it writes."""

    def __init__(self, url: str, variant: str, expect: int) -> None:
        self.args = [sys.executable, sys.argv[0], 'worker', '--redis', url, '--variant', variant]
        self.env = {**os.environ, 'BENCH_EXPECT': str(expect)}
        self.events: dict[str, list[str]] = {}
        self.got = {'start': asyncio.Event(), 'done': asyncio.Event()}
        self.proc: asyncio.subprocess.Process | None = None
        self.launched = 0.0
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> Worker:
        self.launched = time.monotonic()
        self.proc = await asyncio.create_subprocess_exec(*self.args, env=self.env, stdout=asyncio.subprocess.PIPE)
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:  # read everything: a chatty worker must not fill the pipe
            parts = raw.decode(errors='replace').split()
            if len(parts) >= 3 and parts[0] == MARK and parts[1] not in self.events:
                self.events[parts[1]] = parts[2:]
                self.got[parts[1]].set()

    async def wait(self, event: str, timeout_s: float) -> list[str]:
        assert self.proc is not None
        waiter = asyncio.create_task(self.got[event].wait())
        died = asyncio.create_task(self.proc.wait())
        await asyncio.wait({waiter, died}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        died.cancel()
        if event not in self.events:
            state = f'exited with {self.proc.returncode}' if self.proc.returncode is not None else 'timed out'
            raise RuntimeError(f'worker {state} before "{event}"')
        return self.events[event]

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


def server_cpu_s(r: redis.Redis) -> float:
    """CPU seconds the Redis server has used (all its threads)."""
    info = r.info('cpu')
    return float(info['used_cpu_user']) + float(info['used_cpu_sys'])


def command_stats(r: redis.Redis, field: str = 'calls') -> dict[str, int]:
    """``calls`` (or ``usec``, server time) per command since the last CONFIG RESETSTAT, ours left out."""
    stats = r.info('commandstats')
    values = {name.removeprefix('cmdstat_'): int(v[field]) for name, v in stats.items()}
    for own in ('config|resetstat', 'info'):
        values.pop(own, None)
    return dict(sorted(values.items(), key=lambda kv: -kv[1]))


async def measure_e2e(client: Client, r: redis.Redis, args: argparse.Namespace) -> dict[str, Any]:
    n = args.e2e_jobs or args.jobs
    r.config_resetstat()
    handles = [await client.enqueue() for _ in range(n)]
    enqueue_stats, enqueue_usec = command_stats(r), command_stats(r, 'usec')
    r.config_resetstat()
    redis_cpu = server_cpu_s(r)
    worker = await Worker(args.redis, args.variant, n).start()
    try:
        budget_s = 60 + n / 20  # 20 jobs/s at the very least
        start = await worker.wait('start', budget_s)
        done = await worker.wait('done', budget_s)
        redis_cpu = server_cpu_s(r) - redis_cpu
        drain_stats, drain_usec = command_stats(r), command_stats(r, 'usec')
        t0, t1, count = float(start[0]), float(done[0]), int(done[1])
        # CPU of the worker process over the drain; not for a forking worker (its start is a child's)
        worker_cpu = float(done[2]) - float(start[1]) if start[2] == done[3] else None
        unfinished = []
        for i in (0, n // 2, n - 1):  # spot checks: the results are really there
            try:
                await client.result(handles[i], 10)
            except Exception as exc:  # noqa: BLE001 -- reported, the drain itself was measured
                unfinished.append(f'job #{i}: {type(exc).__name__}: {exc}')
    finally:
        await worker.stop()
    if count < n:
        raise RuntimeError(f'the worker finished {count} of {n} jobs')
    return {
        'jobs': n,
        'seconds': t1 - t0,
        'jobs_per_s': n / (t1 - t0),
        'startup_s': t0 - worker.launched,
        'worker_cpu_us_per_job': None if worker_cpu is None else worker_cpu / n * 1e6,
        'redis_cpu_us_per_job': redis_cpu / n * 1e6,
        'commands_enqueue_phase': enqueue_stats,
        'commands_drain_phase': drain_stats,
        'server_usec_enqueue_phase': enqueue_usec,
        'server_usec_drain_phase': drain_usec,
        'spot_check_failures': unfinished,
    }


async def measure_enqueue(client: Client, r: redis.Redis, args: argparse.Namespace) -> dict[str, Any]:
    n = args.jobs
    for _ in range(min(50, n)):  # warm-up: connections, script loading
        await client.enqueue()
    r.config_resetstat()
    redis_cpu, cpu = server_cpu_s(r), cpu_s()
    t0 = time.perf_counter()
    for _ in range(n):
        await client.enqueue()
    elapsed = time.perf_counter() - t0
    cpu, redis_cpu = cpu_s() - cpu, server_cpu_s(r) - redis_cpu
    return {'jobs': n, 'seconds': elapsed, 'jobs_per_s': n / elapsed, 'client_cpu_us_per_job': cpu / n * 1e6,
            'redis_cpu_us_per_job': redis_cpu / n * 1e6, 'commands': command_stats(r)}


async def measure_latency(client: Client, r: redis.Redis, args: argparse.Namespace) -> dict[str, Any]:
    worker = await Worker(args.redis, args.variant, 0).start()
    samples: list[float] = []
    pause = random.Random(7)
    try:
        for _ in range(5):  # warm-up; also waits until the worker is up
            await client.result(await client.enqueue(), 60)
        deadline = time.perf_counter() + args.latency_budget_s
        for i in range(args.latency_n):
            if i >= args.latency_min and time.perf_counter() > deadline:
                break
            t0 = time.perf_counter()
            handle = await client.enqueue()
            await client.result(handle, 30)
            samples.append((time.perf_counter() - t0) * 1000)
            # the worker finishes its own bookkeeping, and a random pause keeps the samples from
            # locking onto a polling worker's cycle: the next job meets an idle worker at a random time
            await asyncio.sleep(pause.uniform(0.002, 0.012))
    finally:
        await worker.stop()
    cuts = statistics.quantiles(samples, n=100, method='inclusive')
    return {'n': len(samples), 'p50_ms': cuts[49], 'p99_ms': cuts[98], 'mean_ms': statistics.fmean(samples),
            'max_ms': max(samples)}


async def _measure(make_client: Callable[[str, str], Client], args: argparse.Namespace) -> dict[str, Any]:
    r = redis.Redis.from_url(args.redis)
    out: dict[str, Any] = {}
    steps = {'e2e': measure_e2e, 'enqueue': measure_enqueue, 'latency': measure_latency}
    for what in args.what.split(','):
        r.flushall()  # before the client connects: its setup may create keys (taskiq's stream group)
        client = make_client(args.redis, args.variant)
        await client.setup()
        try:
            out[what] = await steps[what](client, r, args)
        except Exception as exc:  # noqa: BLE001 -- one failing measurement must not hide the others
            out[what] = {'error': f'{type(exc).__name__}: {exc}'}
        finally:
            await client.close()
    r.close()
    return out


def main(make_client: Callable[[str, str], Client], run_worker: Callable[[str, str], None]) -> None:
    """Entry point of an adapter script: ``measure`` (client side) or ``worker``."""
    parser = argparse.ArgumentParser()
    parser.add_argument('role', choices=('measure', 'worker'))
    parser.add_argument('--redis', required=True)
    parser.add_argument('--variant', default='')
    parser.add_argument('--what', default='e2e,enqueue,latency')
    parser.add_argument('--jobs', type=int, default=5000)
    parser.add_argument('--e2e-jobs', type=int, default=0, help='jobs of the e2e run (default: --jobs)')
    parser.add_argument('--latency-n', type=int, default=300)
    parser.add_argument('--latency-min', type=int, default=30, help='samples taken even past the budget')
    parser.add_argument('--latency-budget-s', type=float, default=30.0)
    args = parser.parse_args()
    if args.role == 'worker':
        run_worker(args.redis, args.variant)
        return
    result = asyncio.run(_measure(make_client, args))
    print(RESULT_MARK, json.dumps(result), flush=True)
