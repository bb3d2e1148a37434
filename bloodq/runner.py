"""The parent side of an analysis child: start it, feed it a job, kill it when needed.

The child is a separate Python process (``python -m bloodq.child``) talking over pipes,
so pypdf and fpdf2 never run on the event loop, a job over its time limit is stopped by
killing the process, and a crash costs one child, not the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import struct
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from bloodq.config import Settings
from bloodq.errors import JobFailure, JobTimeout, PdfTooComplex, WorkerCrashed
from bloodq.logs import get_logger

log = get_logger('bloodq.runner')

_HEADER = struct.Struct('>I')
_ROOT = str(Path(__file__).resolve().parent.parent)
OnProgress = Callable[[str, int], Awaitable[None]]


def failure_from(code: str, message: str) -> JobFailure:
    """Rebuild the :class:`JobFailure` a child reported, by its code."""
    for cls in _failure_classes(JobFailure):
        if cls.code == code:
            return cls(message)
    return JobFailure(message, code=code)


def _failure_classes(root: type[JobFailure]) -> list[type[JobFailure]]:
    out = [root]
    for sub in root.__subclasses__():
        out += _failure_classes(sub)
    return out


class AnalysisChild:
    """One child process, reused for up to ``max_tasks_per_child`` jobs."""

    def __init__(self, settings: Settings, role: str = 'analysis') -> None:
        self.settings = settings
        self.role = role  #: 'analysis' (a worker slot's) or 'render' (the API's report renderer), for the logs
        self.proc: asyncio.subprocess.Process | None = None
        self.tasks_done = 0
        self._starting = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    async def start(self) -> None:
        """Start a fresh child and wait until it has imported the analysis code."""
        # the child imports bloodq from where this process found it, whatever the cwd
        env = {**os.environ, 'PYTHONPATH': os.pathsep.join(filter(None, [_ROOT, os.environ.get('PYTHONPATH')]))}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, '-m', 'bloodq.child', str(self.settings.child_memory_mb),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
        )
        self.tasks_done = 0
        try:
            ready = await self._read_json()
        except (asyncio.IncompleteReadError, ConnectionError):
            raise await self._death() from None
        if ready.get('type') != 'ready':
            raise WorkerCrashed('the analysis process did not start')
        log.info('child_started', pid=self.proc.pid, role=self.role)

    async def ensure_started(self) -> None:
        """Start the child unless one is running (pools call this early so the first job does not wait)."""
        async with self._starting:
            if self.proc is None or self.proc.returncode is not None:
                await self.start()

    async def run(self, meta: dict[str, Any], pdf: bytes, on_progress: OnProgress) -> tuple[dict[str, Any], bytes]:
        """Analyse one PDF; raises the child's :class:`JobFailure`, or a timeout or crash.

        Cancelling this coroutine kills the child (the next job gets a new one).
        """
        await self.ensure_started()
        try:
            async with asyncio.timeout(self.settings.job_timeout_s):
                return await self._exchange(meta, pdf, on_progress)
        except TimeoutError:
            await self.kill()
            raise JobTimeout(f'the analysis ran past {self.settings.job_timeout_s:g} s') from None
        except asyncio.CancelledError:
            await self.kill()
            raise
        finally:
            self.tasks_done += 1
            if self.tasks_done >= self.settings.max_tasks_per_child:
                await self.stop()

    async def _exchange(self, meta: dict[str, Any], pdf: bytes, on_progress: OnProgress) -> tuple[dict[str, Any], bytes]:
        assert self.proc is not None and self.proc.stdin is not None
        body = orjson.dumps({**meta, 'cpu_s': self.settings.job_timeout_s, 'max_pages': self.settings.max_pages})
        try:
            self.proc.stdin.write(_HEADER.pack(len(body)) + body + _HEADER.pack(len(pdf)))
            self.proc.stdin.write(pdf)
            await self.proc.stdin.drain()
            while True:
                message = await self._read_json()
                kind = message.get('type')
                if kind == 'progress':
                    await on_progress(str(message['stage']), int(message['progress']))
                elif kind == 'error':
                    raise failure_from(str(message['code']), str(message['message']))
                elif kind == 'done':
                    return message['result'], await self._read_frame()
        except (ConnectionError, asyncio.IncompleteReadError, BrokenPipeError):
            raise await self._death() from None

    async def _death(self) -> JobFailure:
        """Why the child went away, as a failure (SIGXCPU means the PDF is too costly)."""
        assert self.proc is not None
        code = await self.proc.wait()
        self.proc = None
        log.warning('child_died', returncode=code)
        if code == -signal.SIGXCPU:
            return PdfTooComplex('the analysis used more CPU time than allowed')
        return WorkerCrashed(f'the analysis process died (exit {code})')

    async def _read_frame(self) -> bytes:
        assert self.proc is not None and self.proc.stdout is not None
        (size,) = _HEADER.unpack(await self.proc.stdout.readexactly(_HEADER.size))
        return await self.proc.stdout.readexactly(size)

    async def _read_json(self) -> dict[str, Any]:
        data: dict[str, Any] = orjson.loads(await self._read_frame())
        return data

    async def stop(self) -> None:
        """Let the child finish by closing its input; kill it if it lingers."""
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 2)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    async def kill(self) -> None:
        """Stop the child now (timeouts, cancels, shutdown): its CPU is freed at once."""
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await asyncio.shield(proc.wait())
        log.info('child_killed', pid=proc.pid)

