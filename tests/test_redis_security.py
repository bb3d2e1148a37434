"""REDIS_URL carries passwords, ACL users and TLS (rediss://) through to the queue."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_server import RedisServer, free_port

from bloodq.config import Settings
from bloodq.errors import Unavailable
from bloodq.queue import open_queue
from bloodq.queue.redis import RedisQueue

# the first run on a fresh machine installs Debian's redis-server (built with TLS)
pytestmark = pytest.mark.timeout(900)


def _tls_binary() -> str:
    """A redis-server built with TLS (Debian's); installed by the test setup when missing."""
    def has_tls(binary: str | None) -> bool:
        if not binary:
            return False
        probe = subprocess.run([binary, '--port', '0', '--tls-port', '1', '--tls-cert-file', '/nonexistent'],
                               capture_output=True, text=True, timeout=10, check=False)
        return 'TLS support' not in probe.stdout + probe.stderr
    binary = shutil.which('redis-server')
    if not has_tls(binary):
        subprocess.run('apt-get update -q && apt-get install -y -q --no-install-recommends redis-server',
                       shell=True, capture_output=True, timeout=900, check=False)
        binary = shutil.which('redis-server')
    if not has_tls(binary):
        pytest.fail('no redis-server with TLS support could be installed (apt-get install redis-server)')
    assert binary is not None
    return binary


@pytest.fixture(scope='module')
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RedisServer, int, Path]]:
    """A server with a default-user password, an ACL user and a TLS port (self-signed CA)."""
    certs = tmp_path_factory.mktemp('tls')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
                    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', str(certs / 'key.pem'),
                    '-out', str(certs / 'cert.pem')], check=True, capture_output=True, timeout=60)
    tls_port = free_port()
    server = RedisServer(binary=_tls_binary(), extra=[
        '--requirepass', 'hunter2', '--user', 'bloodq', 'on', '>s3cret', '~*', '&*', '+@all',
        '--tls-port', str(tls_port), '--tls-cert-file', str(certs / 'cert.pem'),
        '--tls-key-file', str(certs / 'key.pem'), '--tls-ca-cert-file', str(certs / 'cert.pem'),
        '--tls-auth-clients', 'no',
    ]).start()
    yield server, tls_port, certs
    server.cleanup()


async def _round_trip(url: str, tmp_path: Path) -> None:
    settings = Settings.from_env({}, redis_url=url, queue_backend='redis', log_dir='', data_dir=str(tmp_path))
    queue = await open_queue(settings)
    try:
        assert isinstance(queue, RedisQueue)
        job = await queue.enqueue(b'%PDF-1.4', query='q', file_name='r.pdf')
        [claimed] = await queue.claim('w', 1)
        assert claimed.id == job.id and await queue.complete(claimed, {'ok': True}, None)
    finally:
        await queue.close()


async def test_password_and_acl_user_urls_work(secured: tuple[RedisServer, int, Path], tmp_path: Path) -> None:
    """redis://:password@ and redis://user:password@ reach the queue; a wrong password refuses to start."""
    server, _, _ = secured
    await _round_trip(f'redis://:hunter2@127.0.0.1:{server.port}/0', tmp_path)
    await _round_trip(f'redis://bloodq:s3cret@127.0.0.1:{server.port}/0', tmp_path)
    with pytest.raises(Unavailable) as refused:
        await _round_trip(f'redis://bloodq:wrong@127.0.0.1:{server.port}/0', tmp_path)
    assert 'wrong' not in str(refused.value)  # the password never reaches a message


async def test_tls_url_works(secured: tuple[RedisServer, int, Path], tmp_path: Path) -> None:
    """rediss:// with the server's CA certificate talks TLS to the queue."""
    _, tls_port, certs = secured
    await _round_trip(f'rediss://bloodq:s3cret@127.0.0.1:{tls_port}/0?ssl_ca_certs={certs / "cert.pem"}', tmp_path)
