"""The API under load: 100 clients submit the 700 KB sample to /analyze-async for 30 s.

    python bench/api_load.py [--clients 100] [--duration-s 30] [--rss-jobs 10000]

Every consumer is kept busy meanwhile (its jobs sleep), so the figures are the API's own:
accepted/s, p50/p99 accept latency, errors, and /health p99 probed every 50 ms from a
separate process. Then the
RSS of main.py is read before and after --rss-jobs more accepted jobs (small PDFs, Redis
mode) to show memory stays flat per accepted job.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def multipart(pdf: bytes, query: str) -> tuple[bytes, str]:
    """One submit form, encoded once: the load generator should spend its CPU sending, not re-encoding."""
    boundary = 'bloodqbenchboundary7MA4YWxkTrZu0gW'
    body = b''.join([
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="report.pdf"\r\n'
        'Content-Type: application/pdf\r\n\r\n'.encode(), pdf,
        f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="query"\r\n\r\n{query}'
        f'\r\n--{boundary}--\r\n'.encode(),
    ])
    return body, f'multipart/form-data; boundary={boundary}'


async def post(http: aiohttp.ClientSession, url: str, form: tuple[bytes, str]) -> int:
    body, content_type = form
    async with http.post(f'{url}/analyze-async', data=body, headers={'Content-Type': content_type}) as r:
        await r.read()
        return r.status


def probe_health(url: str, duration_s: float, out: Any) -> None:
    """/health every 50 ms from a process of its own, as a liveness probe would: the load generator's
    busy event loop must not count as the server's latency."""
    async def run() -> list[float]:
        samples: list[float] = []
        stop_at = time.monotonic() + duration_s
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                async with http.get(f'{url}/health') as r:
                    await r.read()
                samples.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.05)
        return samples

    out.put(asyncio.run(run()))


async def load(url: str, pdf: bytes, clients: int, duration_s: float) -> dict[str, float]:
    accept_ms: list[float] = []
    errors = 0
    stop_at = time.monotonic() + duration_s
    form = multipart(pdf, 'sleep:3600')
    ctx = multiprocessing.get_context('spawn')
    results = ctx.Queue()
    prober = ctx.Process(target=probe_health, args=(url, duration_s, results))
    prober.start()
    connector = aiohttp.TCPConnector(limit=clients + 5)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def client() -> None:
            nonlocal errors
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    status = await post(http, url, form)
                except aiohttp.ClientError:
                    status = 0
                if status == 202:
                    accept_ms.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1

        await asyncio.gather(*(client() for _ in range(clients)))
    health_ms: list[float] = await asyncio.to_thread(results.get)
    prober.join()
    return {'accepted': len(accept_ms), 'accepted_per_s': round(len(accept_ms) / duration_s, 1),
            'accept_p50_ms': round(pct(accept_ms, 0.5), 1), 'accept_p99_ms': round(pct(accept_ms, 0.99), 1),
            'errors': errors, 'health_p50_ms': round(pct(health_ms, 0.5), 2),
            'health_p99_ms': round(pct(health_ms, 0.99), 2), 'health_probes': len(health_ms)}


async def rss_growth(api: Proc, n: int) -> dict[str, float]:
    """RSS of main.py before and after n more accepted jobs (small uploads)."""
    assert api.proc is not None
    form = multipart(simple_report(), 'sleep:3600')
    async with aiohttp.ClientSession() as http:
        for _ in range(200):  # warm-up: imports, caches, connection pools
            await post(http, api.url, form)
        before = rss_mb(api.proc.pid)
        sem = asyncio.Semaphore(20)

        async def one() -> None:
            async with sem:
                await post(http, api.url, form)

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
