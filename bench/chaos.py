"""Chaos run: submit jobs while worker.py processes are SIGKILLed, main.py restarts and Redis restarts.

    python bench/chaos.py --jobs 1000 --worker-kills 10 --api-restarts 3 --redis-restarts 3

Prints jobs submitted, accepted, completed, failed, lost and completed-twice; exits 1 when
anything was lost or completed twice. Redis runs with ``appendonly yes`` + ``appendfsync
always`` (the configuration under which bloodq promises no loss across a Redis restart).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / 'tests'), str(ROOT)]

from pdfs import simple_report
from procs import Proc, get_json, service_env
from redis_server import RedisServer

TERMINAL = {'completed', 'failed', 'cancelled'}


class Chaos:
    """The processes under test and the bookkeeping of what happened to each job."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.redis = RedisServer(appendonly=True, fsync='always')
        self.env: dict[str, str] = {}
        self.api: Proc | None = None
        self.workers: list[Proc] = []
        self.accepted: list[str] = []
        self.submitted = 0
        self.refused = 0
        self.events: collections.Counter[str] = collections.Counter()
        self.pdf = simple_report()
        self.rng = random.Random(args.seed)

    async def start(self) -> None:
        self.redis.start()
        self.env = service_env('redis', self.redis, EMBEDDED_WORKERS=1, WORKER_COUNT=1, LEASE_S=self.args.lease_s,
                               SWEEP_INTERVAL_S=0.5, MAX_RETRIES=5, RETRY_BACKOFF_S=0.2, HANDLER=self.args.handler,
                               SHUTDOWN_GRACE_S=5, MAX_QUEUE_SIZE=100000)
        self.env['PORT'] = str(self._port())
        self.api = await Proc('main.py', self.workdir, self.env).start().ready()
        self.workers = [Proc('worker.py', self.workdir, self.env).start() for _ in range(self.args.workers)]

    def _port(self) -> int:
        from redis_server import free_port

        return free_port()

    async def submit_all(self, http: aiohttp.ClientSession) -> None:
        """Submit every job, retrying one that was refused (API down) until it is accepted."""
        sem = asyncio.Semaphore(8)

        async def one() -> None:
            async with sem:
                self.submitted += 1
                for _ in range(200):
                    try:
                        form = aiohttp.FormData()
                        form.add_field('file', self.pdf, filename='chaos.pdf', content_type='application/pdf')
                        form.add_field('query', 'sleep:0.2')
                        assert self.api is not None
                        async with http.post(f'{self.api.url}/analyze-async', data=form) as r:
                            if r.status == 202:
                                self.accepted.append((await r.json())['job_id'])
                                return
                            self.refused += 1
                    except (aiohttp.ClientError, OSError):
                        self.refused += 1
                    await asyncio.sleep(0.1)

        await asyncio.gather(*(one() for _ in range(self.args.jobs)))

    async def havoc(self) -> None:
        """Kill things at random moments while jobs flow."""
        actions = (['worker'] * self.args.worker_kills + ['api'] * self.args.api_restarts
                   + ['redis'] * self.args.redis_restarts)
        self.rng.shuffle(actions)
        for action in actions:
            await asyncio.sleep(self.rng.uniform(0.3, self.args.havoc_gap_s))
            if action == 'worker':
                victim = self.rng.randrange(len(self.workers))
                self.workers[victim].kill()
                self.workers[victim] = Proc('worker.py', self.workdir, self.env).start()
            elif action == 'api':
                assert self.api is not None
                self.api.kill()
                self.api = Proc('main.py', self.workdir, self.env).start()
                await self.api.ready(30)
            else:
                self.redis.stop(sig_kill=True)
                await asyncio.sleep(0.3)
                self.redis.start()
            self.events[action] += 1

    async def settle(self, http: aiohttp.ClientSession) -> dict[str, str]:
        """Wait until every accepted job is terminal (or the deadline passes)."""
        assert self.api is not None
        deadline = time.monotonic() + self.args.settle_s
        final: dict[str, str] = {}
        while time.monotonic() < deadline:
            for job_id in self.accepted:
                if final.get(job_id) in TERMINAL:
                    continue
                try:
                    status, body = await get_json(http, f'{self.api.url}/status/{job_id}')
                except (aiohttp.ClientError, OSError):
                    continue
                final[job_id] = body.get('status', 'missing') if status == 200 else 'missing'
            if all(final.get(j) in TERMINAL for j in self.accepted):
                break
            await asyncio.sleep(0.5)
        return final

    def completions(self) -> collections.Counter[str]:
        """How many times each job was recorded as completed, from every process's log."""
        counts: collections.Counter[str] = collections.Counter()
        for log in (self.workdir / 'logs').glob('*.log'):
            for line in log.read_text(errors='replace').splitlines():
                if '"job_finished"' in line and '"status":"completed"' in line:
                    start = line.index('"job_id":"') + 10
                    counts[line[start:start + 36]] += 1
        return counts

    def stop(self) -> None:
        for proc in [*self.workers, *([self.api] if self.api else [])]:
            proc.stop(15)
        self.redis.cleanup()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix='bloodq-chaos-') as tmp:
        chaos = Chaos(args, Path(tmp))
        started = time.monotonic()
        try:
            await chaos.start()
            async with aiohttp.ClientSession() as http:
                await asyncio.gather(chaos.submit_all(http), chaos.havoc())
                final = await chaos.settle(http)
        finally:
            chaos.stop()
        done = chaos.completions()
        statuses = collections.Counter(final.get(j, 'missing') for j in chaos.accepted)
        return {
            'submitted': chaos.submitted,
            'accepted': len(chaos.accepted),
            'completed': statuses['completed'],
            'failed': statuses['failed'],
            'lost': sum(n for s, n in statuses.items() if s not in TERMINAL),
            'completed_twice': sum(1 for n in done.values() if n > 1),
            'refused_then_retried': chaos.refused,
            'worker_kills': chaos.events['worker'],
            'api_restarts': chaos.events['api'],
            'redis_restarts': chaos.events['redis'],
            'seconds': round(time.monotonic() - started, 1),
        }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--jobs', type=int, default=1000)
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--worker-kills', type=int, default=10)
    p.add_argument('--api-restarts', type=int, default=3)
    p.add_argument('--redis-restarts', type=int, default=3)
    p.add_argument('--havoc-gap-s', type=float, default=3.0)
    p.add_argument('--lease-s', type=float, default=3.0)
    p.add_argument('--settle-s', type=float, default=300.0)
    p.add_argument('--handler', default='handlers:SleepTask',
                   help='job handler (default: a 0.2 s sleep; bloodq.tasks:AnalysisTask for the real analysis)')
    p.add_argument('--seed', type=int, default=int(os.environ.get('CHAOS_SEED', '7')))
    return p.parse_args(argv)


def main() -> int:
    figures = asyncio.run(run(parse()))
    for key, value in figures.items():
        print(f'{key}={value}')
    return 0 if figures['lost'] == 0 and figures['completed_twice'] == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
