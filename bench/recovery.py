"""Crash recovery and the cost of reliability.

    python bench/recovery.py [--trials 5] [--lease-s 30]

1. Time from a SIGKILL of a worker.py holding a job to that job running again in another
   worker (target: under LEASE_S + 5 s), median of --trials.
2. Throughput of one pool (10 slots, 20 ms jobs) with the heartbeat and sweep on (lease 0.3 s:
   a heartbeat every 0.1 s, a sweep every 0.1 s) against effectively off (lease and sweep 1 h).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / 'tests'), str(ROOT)]

from handlers import SleepTask
from pdfs import simple_report
from procs import Proc, get_json, poll, service_env, submit
from redis_server import RedisServer

from bloodq.config import Settings
from bloodq.logs import setup_logging
from bloodq.pool import WorkerPool
from bloodq.queue.redis import RedisQueue, connect_redis


async def kill_to_rerun(redis: RedisServer, lease_s: float) -> float:
    with tempfile.TemporaryDirectory(prefix='bloodq-recovery-') as tmp:
        env = service_env('redis', redis, EMBEDDED_WORKERS=0, WORKER_COUNT=1, HANDLER='handlers:SleepTask',
                          LEASE_S=lease_s, LOG_LEVEL='warning')
        api = await Proc('main.py', Path(tmp), env).start().ready()
        victim = Proc('worker.py', Path(tmp), env).start()
        rescuer: Proc | None = None
        try:
            async with aiohttp.ClientSession() as http:
                _, body = await submit(http, api.url, simple_report(), query='sleep:3600')
                url = f'{api.url}/status/{body["job_id"]}'

                async def attempt(n: int) -> bool:
                    _, state = await get_json(http, url)
                    return bool(state['status'] == 'processing' and state['attempts'] == n)

                await poll(lambda: attempt(1), 30, what='first attempt')
                rescuer = Proc('worker.py', Path(tmp), env).start()
                await asyncio.sleep(1.0)  # the rescuer is up and idle before the kill
                victim.kill()
                killed = time.monotonic()
                await poll(lambda: attempt(2), lease_s + 60, what='second attempt', interval_s=0.02)
                return time.monotonic() - killed
        finally:
            for proc in (victim, rescuer, api):
                if proc is not None:
                    proc.stop(5)


async def drain_rate(redis: RedisServer, *, reliable: bool, jobs: int) -> float:
    lease_s, sweep_s = (0.3, 0.1) if reliable else (3600.0, 3600.0)
    settings = Settings.from_env({}, redis_url=redis.url, queue_name=f'bench_{reliable}_{time.time_ns()}',
                                 lease_s=lease_s, sweep_interval_s=sweep_s, log_dir='', log_level='warning',
                                 max_queue_size=10**7)
    queue = RedisQueue(settings, connect_redis(redis.url, max_connections=64))
    await queue.connect()
    for _ in range(jobs):
        await queue.enqueue(b'%PDF-', query='sleep:0.02', file_name='x.pdf')
    pool = WorkerPool(queue, settings, lambda: SleepTask(queue, settings), slots=10)
    started = time.perf_counter()
    await pool.start()
    while (await queue.stats())['jobs_by_status'].get('completed', 0) < jobs:
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - started
    await pool.stop(0)
    await queue.close()
    return jobs / elapsed


async def main(args: argparse.Namespace) -> None:
    setup_logging(None, '', 'warning')
    redis = RedisServer().start()
    try:
        times = [await kill_to_rerun(redis, args.lease_s) for _ in range(args.trials)]
        print(f'lease_s={args.lease_s} kill_to_rerun_s_median={statistics.median(times):.2f} '
              f'min={min(times):.2f} max={max(times):.2f} target_s={args.lease_s + 5}')
        on, off = [], []
        for _ in range(args.trials):
            on.append(await drain_rate(redis, reliable=True, jobs=args.jobs))
            off.append(await drain_rate(redis, reliable=False, jobs=args.jobs))
        rate_on, rate_off = statistics.median(on), statistics.median(off)
        print(f'jobs_per_s_heartbeat_sweep_on={rate_on:.0f} off={rate_off:.0f} '
              f'overhead_pct={100 * (1 - rate_on / rate_off):.1f}')
    finally:
        redis.cleanup()


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--trials', type=int, default=5)
    parser.add_argument('--lease-s', type=float, default=30.0)
    parser.add_argument('--jobs', type=int, default=2000)
    asyncio.run(main(parser.parse_args()))
