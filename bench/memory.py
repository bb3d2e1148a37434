"""Memory: main.py idle and under load, each worker.py, an analysis child, Redis bytes per job.

    python bench/memory.py [--jobs 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import aiohttp
import redis as redis_py

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / 'tests'), str(ROOT)]

from pdfs import simple_report
from procs import Proc, get_json, poll, service_env, submit, until_terminal
from redis_server import RedisServer

SAMPLE = ROOT.parent / 'shared' / 'data' / 'blood_test_report.pdf'


def rss_mb(pid: int) -> float:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    path = Path(f'/proc/{pid}/task/{pid}/children')
    return [int(p) for p in path.read_text().split()] if path.exists() else []


async def main(args: argparse.Namespace) -> None:
    redis = RedisServer().start()
    client = redis_py.Redis.from_url(redis.url)
    pdf = SAMPLE.read_bytes() if SAMPLE.exists() else simple_report(pages=10)
    try:
        with tempfile.TemporaryDirectory(prefix='bloodq-mem-') as tmp:
            env = service_env('redis', redis, EMBEDDED_WORKERS=0, WORKER_COUNT=2, LOG_LEVEL='warning')
            api = await Proc('main.py', Path(tmp), env).start().ready()
            assert api.proc is not None
            async with aiohttp.ClientSession() as http:
                print(f'main_idle_rss_mb={rss_mb(api.proc.pid):.1f}')
                base = int(client.info('memory')['used_memory'])
                small = simple_report()
                for _ in range(args.jobs):
                    await submit(http, api.url, small)
                per_job = (int(client.info('memory')['used_memory']) - base) / args.jobs
                print(f'redis_bytes_per_queued_job_included={per_job:.0f} upload_bytes={len(small)} '
                      f'redis_overhead_per_job_bytes={per_job - len(small):.0f}')
                print(f'main_rss_after_{args.jobs}_accepted_mb={rss_mb(api.proc.pid):.1f}')
                client.delete(env['QUEUE_NAME'])  # nobody will work those off
                worker = Proc('worker.py', Path(tmp), env).start()
                assert worker.proc is not None

                async def two() -> bool:
                    _, stats = await get_json(http, f'{api.url}/queue/stats')
                    return bool(stats['workers'] == 2)

                await poll(two, 60, what='workers')
                kids = children(worker.proc.pid)
                print(f'worker_idle_rss_mb={rss_mb(worker.proc.pid):.1f} '
                      f'child_idle_rss_mb={max((rss_mb(k) for k in kids), default=0):.1f}')
                peak_child = 0.0
                bodies = [(await submit(http, api.url, pdf))[1] for _ in range(10)]
                for body in bodies:
                    while (await get_json(http, f'{api.url}/status/{body["job_id"]}'))[1]['status'] != 'completed':
                        peak_child = max([peak_child, *(rss_mb(k) for k in children(worker.proc.pid))])
                        await asyncio.sleep(0.02)
                    await until_terminal(http, api.url, body['job_id'])
                print(f'worker_rss_after_10_reports_mb={rss_mb(worker.proc.pid):.1f} '
                      f'child_peak_rss_mb={peak_child:.1f} main_rss_mb={rss_mb(api.proc.pid):.1f}')
                worker.stop()
            api.stop()
    finally:
        redis.cleanup()


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--jobs', type=int, default=1000)
    asyncio.run(main(parser.parse_args()))
