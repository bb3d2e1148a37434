"""The API under load: 100 clients submit the 700 KB sample to /analyze-async for 30 s.

    python bench/api_load.py [--clients 100] [--duration-s 30] [--rss-jobs 10000]

Every consumer is kept busy meanwhile (its jobs sleep), so the figures are the API's own:
accepted/s, p50/p99 accept latency, errors, and /health p99 probed every 50 ms. Then the
RSS of main.py is read before and after --rss-jobs more accepted jobs (small PDFs, Redis
mode) to show memory stays flat per accepted job.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / 'tests'), str(ROOT)]

from pdfs import simple_report
from procs import Proc, service_env
from redis_server import RedisServer

SAMPLE = ROOT.parent / 'shared' / 'data' / 'blood_test_report.pdf'


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float('nan')


def rss_mb(pid: int) -> float:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return float('nan')


async def post(http: aiohttp.ClientSession, url: str, pdf: bytes, query: str) -> int:
    form = aiohttp.FormData()
    form.add_field('file', pdf, filename='report.pdf', content_type='application/pdf')
    form.add_field('query', query)
    async with http.post(f'{url}/analyze-async', data=form) as r:
        await r.read()
        return r.status


async def load(url: str, pdf: bytes, clients: int, duration_s: float) -> dict[str, float]:
    accept_ms: list[float] = []
    health_ms: list[float] = []
    errors = 0
    stop_at = time.monotonic() + duration_s
    connector = aiohttp.TCPConnector(limit=clients + 5)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def client() -> None:
            nonlocal errors
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    status = await post(http, url, pdf, 'sleep:3600')
                except aiohttp.ClientError:
                    status = 0
                if status == 202:
                    accept_ms.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1

        async def prober() -> None:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                async with http.get(f'{url}/health') as r:
                    await r.read()
                health_ms.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.05)

        await asyncio.gather(prober(), *(client() for _ in range(clients)))
    return {'accepted': len(accept_ms), 'accepted_per_s': round(len(accept_ms) / duration_s, 1),
            'accept_p50_ms': round(pct(accept_ms, 0.5), 1), 'accept_p99_ms': round(pct(accept_ms, 0.99), 1),
            'errors': errors, 'health_p50_ms': round(pct(health_ms, 0.5), 2),
            'health_p99_ms': round(pct(health_ms, 0.99), 2), 'health_probes': len(health_ms)}


async def rss_growth(api: Proc, n: int) -> dict[str, float]:
    """RSS of main.py before and after n more accepted jobs (small uploads)."""
    assert api.proc is not None
    pdf = simple_report()
    async with aiohttp.ClientSession() as http:
        for _ in range(200):  # warm-up: imports, caches, connection pools
            await post(http, api.url, pdf, 'sleep:3600')
        before = rss_mb(api.proc.pid)
        sem = asyncio.Semaphore(20)

        async def one() -> None:
            async with sem:
                await post(http, api.url, pdf, 'sleep:3600')

        await asyncio.gather(*(one() for _ in range(n)))
        after = rss_mb(api.proc.pid)
    return {'rss_before_mb': round(before, 1), 'rss_after_mb': round(after, 1),
            'rss_per_1000_jobs_kb': round((after - before) * 1024 / n * 1000, 1)}


async def main(args: argparse.Namespace) -> None:
    pdf = SAMPLE.read_bytes() if SAMPLE.exists() else simple_report(pages=60)
    with tempfile.TemporaryDirectory(prefix='bloodq-load-') as tmp:
        redis = RedisServer().start()
        try:
            env = service_env('redis', redis, EMBEDDED_WORKERS=2, HANDLER='handlers:SleepTask',
                              MAX_QUEUE_SIZE=10**7, LOG_LEVEL='warning')
            api = await Proc('main.py', Path(tmp), env).start().ready()
            assert api.proc is not None
            idle = rss_mb(api.proc.pid)
            figures = await load(api.url, pdf, args.clients, args.duration_s)
            loaded = rss_mb(api.proc.pid)
            print(f'upload_bytes={len(pdf)} clients={args.clients} duration_s={args.duration_s}')
            for key, value in figures.items():
                print(f'{key}={value}')
            print(f'rss_idle_mb={idle:.1f} rss_after_load_mb={loaded:.1f}')
            await asyncio.to_thread(redis_flush, redis)
            for key, value in (await rss_growth(api, args.rss_jobs)).items():
                print(f'{key}={value}')
            api.stop()
        finally:
            redis.cleanup()


def redis_flush(redis: RedisServer) -> None:
    import redis as redis_py

    redis_py.Redis.from_url(redis.url).flushall()


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--clients', type=int, default=100)
    parser.add_argument('--duration-s', type=float, default=30.0)
    parser.add_argument('--rss-jobs', type=int, default=10_000)
    asyncio.run(main(parser.parse_args()))
