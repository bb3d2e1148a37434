"""Real ``main.py`` / ``worker.py`` processes for end-to-end tests, and an HTTP client for them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parent.parent


class Proc:
    """One bloodq process with its own port, log and data directories."""

    def __init__(self, script: str, workdir: Path, env: dict[str, str]) -> None:
        self.script = script
        self.workdir = workdir
        self.port = int(env.get('PORT') or free_port())
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ('QUEUE_BACKEND', 'REDIS_URL')},
            'HOST': '127.0.0.1', 'LOG_DIR': str(workdir / 'logs'),
            'DATA_DIR': str(workdir / 'data'), 'PYTHONUNBUFFERED': '1',
            # test handlers (tests/handlers.py) are importable by name in the child processes
            'PYTHONPATH': os.pathsep.join([str(ROOT / 'tests'), str(ROOT)]), **env, 'PORT': str(self.port),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr_path = workdir / f'{Path(script).stem}-{self.port}.stderr'

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    def start(self) -> Proc:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._stderr = open(self.stderr_path, 'ab')  # noqa: SIM115 -- closed in wait()
        self.proc = subprocess.Popen([sys.executable, str(ROOT / self.script)], cwd=self.workdir, env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=self._stderr)
        return self

    def send(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout_s: float = 30) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout_s)
        self._stderr.close()
        return code

    def stop(self, timeout_s: float = 30) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.send(signal.SIGTERM)
        try:
            return self.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.wait(5)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.wait(10)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors='replace') if self.stderr_path.exists() else ''

    def log_events(self, name: str) -> list[dict[str, Any]]:
        path = self.workdir / 'logs' / name
        if not path.exists():
            return []
        return [orjson.loads(line) for line in path.read_text().splitlines() if line.startswith('{')]

    async def ready(self, timeout_s: float = 60) -> Proc:
        """Wait until ``/health`` answers."""
        async with aiohttp.ClientSession() as http:
            await poll(lambda: _health(http, self.url), timeout_s, what=f'{self.script} /health')
        return self


async def _health(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(f'{url}/health') as r:
            return r.status == 200
    except aiohttp.ClientError:
        return False


async def poll(check: Callable[[], Awaitable[Any]], timeout_s: float, *, what: str = 'condition',
               interval_s: float = 0.05) -> Any:
    """Await ``check`` until it returns something truthy, or fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f'{what} not reached within {timeout_s} s')
        await asyncio.sleep(interval_s)


async def submit(http: aiohttp.ClientSession, url: str, pdf: bytes, *, path: str = '/analyze-async',
                 name: str = 'report.pdf', **fields: str) -> tuple[int, dict[str, Any]]:
    form = aiohttp.FormData()
    form.add_field('file', pdf, filename=name, content_type='application/pdf')
    for key, value in fields.items():
        form.add_field(key, value)
    async with http.post(f'{url}{path}', data=form) as r:
        return r.status, await r.json()


async def get_json(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    async with http.get(url) as r:
        return r.status, await r.json()


async def until_terminal(http: aiohttp.ClientSession, base: str, job_id: str, timeout_s: float = 60) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        _, body = await get_json(http, f'{base}/status/{job_id}')
        return body if body.get('status') in ('completed', 'failed', 'cancelled') else None

    result: dict[str, Any] = await poll(check, timeout_s, what=f'job {job_id} terminal', interval_s=0.1)
    return result


def service_env(backend: str, redis: RedisServer | None, **extra: Any) -> dict[str, str]:
    env = {'QUEUE_BACKEND': backend, 'QUEUE_NAME': f'e2e_{os.urandom(4).hex()}', 'EMBEDDED_WORKERS': '2',
           'LEASE_S': '3', 'SWEEP_INTERVAL_S': '0.2', 'SHUTDOWN_GRACE_S': '10'}
    if redis is not None:
        env['REDIS_URL'] = redis.url
    env.update({k: str(v) for k, v in extra.items()})
    return env


def launch(procs: list[Proc], script: str, workdir: Path, env: dict[str, str]) -> Proc:
    proc = Proc(script, workdir, env).start()
    procs.append(proc)
    return proc
