"""Running under systemd: the notify protocol, the units, the env file, logrotate, alerts, install.sh.

The system tools these tests drive (``systemd-analyze``, ``shellcheck``, ``logrotate``) are
installed from Debian's packages by a session fixture when missing; a failed install fails the
tests, it never skips them.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml
from procs import Proc, launch
from redis_server import RedisServer

from bloodq import metrics, sdnotify
from bloodq.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SYSTEMD = ROOT / 'systemd'
UNITS = ('bloodq-api.service', 'bloodq-worker@.service')
ALERTS = ('BloodqQueueBacklog', 'BloodqHighFailureRate', 'BloodqSlowJobs', 'BloodqNoConsumers')
TOOLS = {'systemd-analyze': 'systemd', 'shellcheck': 'shellcheck', 'logrotate': 'logrotate'}
SEARCH_PATH = os.pathsep.join([os.environ.get('PATH', ''), '/usr/sbin', '/sbin', '/usr/bin'])

# the first test that needs a tool may spend a minute on apt-get
pytestmark = pytest.mark.timeout(300)


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture(scope='session')
def tools() -> dict[str, str]:
    """Paths of systemd-analyze, shellcheck and logrotate, installed with apt-get when missing."""
    missing = sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool, path=SEARCH_PATH) is None})
    if missing:
        env = {**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'}
        for cmd in (['apt-get', 'update'], ['apt-get', 'install', '-y', '--no-install-recommends', *missing]):
            try:
                done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                pytest.fail(f'cannot install Debian packages {missing}: {" ".join(cmd)}: {exc}')
            if done.returncode != 0:
                pytest.fail(f'cannot install Debian packages {missing} (these tests need them, as root with '
                            f"Debian's package registry reachable): {' '.join(cmd)} exited {done.returncode}\n"
                            f'{done.stdout[-2000:]}\n{done.stderr[-2000:]}')
    found: dict[str, str] = {}
    for tool, pkg in TOOLS.items():
        path = shutil.which(tool, path=SEARCH_PATH)
        if path is None:
            pytest.fail(f'{tool} is still missing after installing the Debian package {pkg}')
        found[tool] = path
    return found


@pytest.fixture
def sockdir() -> Iterator[Path]:
    """A short directory for Unix sockets (a socket path must stay under 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix='bq-sd-'))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class NotifyListener:
    """The systemd side of the protocol: a bound AF_UNIX datagram socket that collects messages."""

    def __init__(self, address: str | bytes) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.seen: list[str] = []

    @property
    def env_value(self) -> str:
        """What ``$NOTIFY_SOCKET`` holds for this socket (``@name`` for an abstract one)."""
        name = self.sock.getsockname()
        return '@' + name[1:].decode() if isinstance(name, bytes) else name

    def recv(self, timeout_s: float) -> str | None:
        """The next datagram, or None when none arrives within ``timeout_s``."""
        self.sock.settimeout(max(timeout_s, 0.001))
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            return None
        self.seen.append(data.decode())
        return self.seen[-1]

    def pending(self) -> list[str]:
        """Every datagram already queued on the socket, without waiting."""
        self.sock.setblocking(False)
        out: list[str] = []
        try:
            while True:
                out.append(self.sock.recv(4096).decode())
        except BlockingIOError:
            pass
        self.seen.extend(out)
        return out

    def wait_for(self, line: str, timeout_s: float, *, count: int = 1) -> None:
        """Receive until ``count`` datagrams carrying the assignment ``line`` have arrived."""
        deadline = time.monotonic() + timeout_s
        while sum(line in msg.split('\n') for msg in self.seen) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f'{count} x {line!r} not received within {timeout_s} s; got {self.seen}')
            self.recv(remaining)

    def close(self) -> None:
        name = self.sock.getsockname()
        self.sock.close()
        if isinstance(name, str) and name:
            Path(name).unlink(missing_ok=True)


@pytest.fixture
def listener(sockdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifyListener]:
    """A notify socket on a filesystem path, named in ``$NOTIFY_SOCKET`` of this process."""
    sock = NotifyListener(str(sockdir / 'notify'))
    monkeypatch.setenv('NOTIFY_SOCKET', sock.env_value)
    monkeypatch.delenv('WATCHDOG_USEC', raising=False)
    monkeypatch.delenv('WATCHDOG_PID', raising=False)
    yield sock
    sock.close()


def unit_directives(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A unit file as ``{section: [(key, value), ...]}``, keeping repeated keys in order."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ''
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(('#', ';')):
            continue
        if line.startswith('[') and line.endswith(']'):
            current = line[1:-1]
            sections.setdefault(current, [])
            continue
        key, sep, value = line.partition('=')
        assert sep, f'{path.name}: not a key=value line: {raw!r}'
        sections[current].append((key.strip(), value.strip()))
    return sections


def values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [v for k, v in section if k == key]


def runnable_copy(unit: str, dest: Path) -> Path:
    """``unit`` rewritten to run on this machine: see :func:`test_units_pass_systemd_analyze_verify`."""
    text = (SYSTEMD / unit).read_text()
    env_file = dest / 'bloodq.env'
    shutil.copy(SYSTEMD / 'bloodq.env.example', env_file)
    script = 'main.py' if unit == 'bloodq-api.service' else 'worker.py'
    for old, new in (
        (f'ExecStart=/opt/bloodq/venv/bin/python /opt/bloodq/{script}', f'ExecStart={sys.executable} {ROOT / script}'),
        ('WorkingDirectory=/opt/bloodq', f'WorkingDirectory={ROOT}'),
        ('User=bloodq', 'User=root'),
        ('Group=bloodq', 'Group=root'),
        ('EnvironmentFile=/etc/bloodq/bloodq.env', f'EnvironmentFile={env_file}'),
        ('ReadWritePaths=/var/lib/bloodq /var/log/bloodq', f'ReadWritePaths={dest}'),
    ):
        assert text.count(old) == 1, f'{unit}: expected exactly one {old!r}'
        text = text.replace(old, new)
    copy = dest / unit
    copy.write_text(text)
    return copy


def verify(tools: dict[str, str], unit_file: Path) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` on one unit file (a template through an ``@1`` instance link)."""
    target = unit_file
    if unit_file.name.endswith('@.service'):
        target = unit_file.with_name(unit_file.name.replace('@.service', '@1.service'))
        target.unlink(missing_ok=True)
        target.symlink_to(unit_file.name)
    return subprocess.run([tools['systemd-analyze'], 'verify', str(target)], capture_output=True, text=True,
                          timeout=60, check=False, cwd=unit_file.parent)


# --- units ----------------------------------------------------------------------------------------


@pytest.mark.parametrize('unit', UNITS)
def test_units_pass_systemd_analyze_verify(unit: str, tools: dict[str, str], tmp_path: Path) -> None:
    """Both units load cleanly in systemd's own parser (``systemd-analyze verify``).

    verify resolves ExecStart= on this machine, and /opt/bloodq only exists where install.sh ran,
    so it runs on a copy in which exactly these lines are rewritten and nothing else: ExecStart= to
    this interpreter and this checkout's main.py/worker.py, WorkingDirectory= to the checkout,
    User=/Group= to root (there is no bloodq user here), EnvironmentFile= to a copy of
    bloodq.env.example and ReadWritePaths= to the temp dir. Every other directive (Type=notify,
    the sandboxing, limits, kill and restart settings) is checked as written. verify only warns,
    exit status 0, on an unknown key or a value it cannot parse, so any output at all fails the test.
    The worker template is verified through an instance name, ``bloodq-worker@1.service``.
    """
    done = verify(tools, runnable_copy(unit, tmp_path))
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), (
        f'systemd-analyze verify {unit}: exit {done.returncode}\n{done.stdout}{done.stderr}')


@pytest.mark.parametrize('unit', UNITS)
def test_verify_check_catches_a_typo(unit: str, tools: dict[str, str], tmp_path: Path) -> None:
    """The verify check above is not vacuous: a misspelt key or a bad value in the unit is reported."""
    copy = runnable_copy(unit, tmp_path)
    copy.write_text(copy.read_text().replace('NoNewPrivileges=yes', 'NoNewPrivilegez=yes')
                    .replace('RestartSec=2', 'RestartSec=soon'))
    done = verify(tools, copy)
    assert 'NoNewPrivilegez' in done.stderr and 'soon' in done.stderr, done.stderr


@pytest.mark.parametrize('unit', UNITS)
def test_units_carry_the_required_directives(unit: str) -> None:
    """Each unit is Type=notify, sandboxed, drains within TimeoutStopSec and wants but never requires Redis."""
    sections = unit_directives(SYSTEMD / unit)
    assert set(sections) == {'Unit', 'Service', 'Install'}
    service = sections['Service']
    script = 'main.py' if unit == 'bloodq-api.service' else 'worker.py'
    expected = {
        'Type': 'notify', 'NotifyAccess': 'main', 'ExecStart': f'/opt/bloodq/venv/bin/python /opt/bloodq/{script}',
        'WorkingDirectory': '/opt/bloodq', 'Restart': 'on-failure', 'RestartSec': '2', 'KillSignal': 'SIGTERM',
        'KillMode': 'mixed', 'WatchdogSec': '30', 'User': 'bloodq', 'Group': 'bloodq', 'NoNewPrivileges': 'yes',
        'ProtectSystem': 'strict', 'ProtectHome': 'yes', 'PrivateTmp': 'yes', 'PrivateDevices': 'yes',
        'ProtectKernelTunables': 'yes', 'ProtectControlGroups': 'yes', 'RestrictSUIDSGID': 'yes',
        'ReadWritePaths': '/var/lib/bloodq /var/log/bloodq',
    }
    for key, value in expected.items():
        assert values(service, key) == [value], f'{unit}: {key}= should be exactly {value!r}'
    assert values(service, 'EnvironmentFile')[0] == '/etc/bloodq/bloodq.env'
    stop_s = int(values(service, 'TimeoutStopSec')[0])
    assert stop_s > Settings().shutdown_grace_s, 'TimeoutStopSec must leave room for the SHUTDOWN_GRACE_S drain'
    if unit == 'bloodq-worker@.service':
        assert 'WORKER_INSTANCE=%i' in values(service, 'Environment')
        assert values(service, 'MemoryMax'), 'workers need a MemoryMax='
    head = sections['Unit']
    assert 'redis-server.service' in ' '.join(values(head, 'Wants')).split()
    after = ' '.join(values(head, 'After')).split()
    assert 'network-online.target' in after and 'redis-server.service' in after
    for strong in ('Requires', 'Requisite', 'BindsTo', 'PartOf'):
        assert not values(head, strong), f'{unit}: {strong}= would tie bloodq to Redis; the API runs without it'
    assert values(sections['Install'], 'WantedBy') == ['multi-user.target']


# --- env file -------------------------------------------------------------------------------------


class _AskedFor(dict[str, str]):
    """An empty environment that records which variables :meth:`Settings.from_env` reads."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.append(key)
        return default


def test_env_example_lists_every_setting_with_its_default() -> None:
    """bloodq.env.example names every variable config.py reads, each with its true default."""
    env = _AskedFor()
    Settings.from_env(env)
    field_of = dict(zip(env.asked, fields(Settings), strict=True))
    lines = (SYSTEMD / 'bloodq.env.example').read_text().splitlines()
    listed: dict[str, str] = {}
    active: dict[str, str] = {}
    for line in lines:
        m = re.match(r'^(#?)([A-Z][A-Z0-9_]*)=(.*)$', line)
        if m:
            listed[m[2]] = m[3]
            if not m[1]:
                active[m[2]] = m[3]
    assert set(listed) == set(field_of), (
        f'missing: {sorted(set(field_of) - set(listed))}, unknown: {sorted(set(listed) - set(field_of))}')
    defaults = Settings()
    for name, value in listed.items():
        if name in active or name == 'EMBEDDED_WORKERS':  # set for systemd / defaults to the CPU count
            continue
        f = field_of[name]
        assert getattr(Settings.from_env({name: value}), f.name) == getattr(defaults, f.name), (
            f'{name}={value} in the example is not the default')
    settings = Settings.from_env(active)
    assert (settings.log_dir, settings.data_dir) == ('/var/log/bloodq', '/var/lib/bloodq'), (
        'LOG_DIR/DATA_DIR must be the directories the units allow writes to')


# --- the notify protocol against a real socket ----------------------------------------------------


def test_notify_is_a_no_op_without_notify_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside systemd (no $NOTIFY_SOCKET) every helper returns False and nothing is sent."""
    monkeypatch.delenv('NOTIFY_SOCKET', raising=False)
    assert not sdnotify.notify('READY=1')
    assert not (sdnotify.ready() or sdnotify.stopping() or sdnotify.watchdog_ping() or sdnotify.status('x'))


def test_helpers_send_their_datagrams_to_a_path_socket(listener: NotifyListener) -> None:
    """ready/stopping/watchdog_ping/status each send one datagram with their assignment."""
    assert sdnotify.ready() and sdnotify.watchdog_ping() and sdnotify.status('draining\n2 jobs left')
    assert sdnotify.stopping() and sdnotify.notify('RELOADING=1')
    for _ in range(5):
        listener.recv(5)
    assert listener.seen == ['READY=1', 'WATCHDOG=1', 'STATUS=draining 2 jobs left', 'STOPPING=1', 'RELOADING=1']


def test_notify_reaches_an_abstract_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    """A $NOTIFY_SOCKET starting with @ names a socket in the abstract namespace."""
    sock = NotifyListener(b'\0bloodq-test-' + os.urandom(6).hex().encode())
    try:
        monkeypatch.setenv('NOTIFY_SOCKET', sock.env_value)
        assert sock.env_value.startswith('@bloodq-test-')
        assert sdnotify.ready()
        assert sock.recv(5) == 'READY=1'
    finally:
        sock.close()


def test_notify_reports_false_when_nobody_listens(sockdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stale or malformed $NOTIFY_SOCKET makes notify return False instead of raising."""
    for value in (str(sockdir / 'gone'), '@bloodq-nobody-' + os.urandom(6).hex(), 'relative/path'):
        monkeypatch.setenv('NOTIFY_SOCKET', value)
        assert sdnotify.notify('READY=1') is False, value


@pytest.mark.parametrize(('usec', 'pid', 'expected'), [
    (None, None, None), ('30000000', None, 15.0), ('1000000', 'self', 0.5), ('1000000', '1', None),
    ('0', None, None), ('soon', None, None),
])
def test_watchdog_interval_is_half_of_watchdog_usec(usec: str | None, pid: str | None, expected: float | None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """WATCHDOG_USEC/2 in seconds; None when unset, invalid, or meant for another pid."""
    for name, value in (('WATCHDOG_USEC', usec), ('WATCHDOG_PID', str(os.getpid()) if pid == 'self' else pid)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert sdnotify.watchdog_interval_s() == expected


def test_watchdog_loop_returns_at_once_when_the_watchdog_is_off(listener: NotifyListener) -> None:
    """Without WATCHDOG_USEC the task ends immediately and sends nothing."""
    asyncio.run(asyncio.wait_for(sdnotify.watchdog_loop(), 5))
    assert listener.pending() == []


def test_watchdog_pings_stop_while_the_event_loop_is_wedged(listener: NotifyListener,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """watchdog_loop pings every WATCHDOG_USEC/2 from the event loop, so a blocked loop sends nothing."""
    monkeypatch.setenv('WATCHDOG_USEC', '100000')  # a ping every 50 ms

    async def scenario() -> tuple[list[str], list[str]]:
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(sdnotify.watchdog_loop())
        await asyncio.wait_for(loop.run_in_executor(None, functools.partial(listener.wait_for, 'WATCHDOG=1', 5.0, count=3)), 10)
        listener.pending()
        time.sleep(0.4)  # noqa: ASYNC251 -- the wedge under test: blocking code holds the loop 8 ping intervals
        during = listener.pending()
        await asyncio.wait_for(loop.run_in_executor(None, listener.recv, 5.0), 10)  # pings resume
        task.cancel()
        return during, listener.seen

    during, seen = asyncio.run(scenario())
    assert during == [], 'pings were sent while the event loop was blocked'
    assert seen[-1] == 'WATCHDOG=1' and set(seen) == {'WATCHDOG=1'}


# --- the real service under a real notify socket --------------------------------------------------


def _service_env(listener: NotifyListener, **extra: str) -> dict[str, str]:
    return {'NOTIFY_SOCKET': listener.env_value, 'WATCHDOG_USEC': '1000000', 'WATCHDOG_PID': '', **extra}


def _health(proc: Proc) -> int:
    with urllib.request.urlopen(f'{proc.url}/health', timeout=5) as r:
        return int(r.status)


def _notify_lifecycle(proc: Proc, listener: NotifyListener, http: bool) -> None:
    try:
        listener.wait_for('READY=1', 60)
    except AssertionError:
        raise AssertionError(f'no READY=1; stderr of {proc.script}:\n{proc.stderr()[-3000:]}') from None
    if http:
        assert _health(proc) == 200, '/health must answer once READY=1 was sent'
    listener.wait_for('WATCHDOG=1', 10, count=3)
    assert 'STOPPING=1' not in listener.seen
    proc.send(signal.SIGTERM)
    listener.wait_for('STOPPING=1', 30)
    assert proc.wait(60) == 0, proc.stderr()[-3000:]
    ready_at = listener.seen.index('READY=1')
    assert all(msg == 'WATCHDOG=1' for msg in listener.seen[ready_at + 1:listener.seen.index('STOPPING=1')])


def test_main_py_sends_ready_watchdog_and_stopping(listener: NotifyListener, tmp_path: Path,
                                                   procs: list[Proc]) -> None:
    """main.py: READY=1 once /health answers, WATCHDOG=1 every WATCHDOG_USEC/2, STOPPING=1 on SIGTERM, exit 0."""
    env = _service_env(listener, QUEUE_BACKEND='memory', EMBEDDED_WORKERS='1')
    proc = launch(procs, 'main.py', tmp_path, env)
    _notify_lifecycle(proc, listener, http=True)


def test_worker_py_sends_ready_watchdog_and_stopping(listener: NotifyListener, tmp_path: Path,
                                                     redis_server: RedisServer, procs: list[Proc]) -> None:
    """worker.py: READY=1 once its pool consumes, WATCHDOG=1 pings, STOPPING=1 on SIGTERM, exit 0."""
    env = _service_env(listener, QUEUE_BACKEND='redis', REDIS_URL=redis_server.url, WORKER_COUNT='1',
                       QUEUE_NAME=f'sd_{os.urandom(4).hex()}', WORKER_INSTANCE='1')
    proc = launch(procs, 'worker.py', tmp_path, env)
    _notify_lifecycle(proc, listener, http=False)


# --- logrotate ------------------------------------------------------------------------------------

_LOGGER = """
import sys
from bloodq.logs import get_logger, setup_logging
setup_logging(sys.argv[1], 'worker.log')
log = get_logger('rotation-test')
log.info('before_rotation')
print('logged', flush=True)
sys.stdin.readline()
log.info('after_rotation')
"""


def test_logrotate_rotates_and_bloodq_reopens_without_copytruncate(tools: dict[str, str], tmp_path: Path) -> None:
    """logrotate.conf renames the log away; a running bloodq process writes its next line to a new file."""
    conf_text = (SYSTEMD / 'logrotate.conf').read_text()
    assert 'copytruncate' not in re.sub(r'#.*', '', conf_text)
    logs = tmp_path / 'logs'
    conf = tmp_path / 'logrotate.conf'
    # the rules as written, pointed at the temp dir; the bloodq user does not exist on a test machine
    conf.write_text(conf_text.replace('/var/log/bloodq/', f'{logs}/').replace('bloodq bloodq', 'root root'))
    conf.chmod(0o644)
    child = subprocess.Popen([sys.executable, '-c', _LOGGER, str(logs)], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == 'logged'
        done = subprocess.run([tools['logrotate'], '--force', '--state', str(tmp_path / 'state'), str(conf)],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        child.stdin.write('go\n')
        child.stdin.flush()
        assert child.wait(30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    rotated = [p for p in logs.iterdir() if p.name.startswith('worker.log-')]
    assert len(rotated) == 1, sorted(p.name for p in logs.iterdir())
    assert 'before_rotation' in rotated[0].read_text() and 'after_rotation' not in rotated[0].read_text()
    current = (logs / 'worker.log').read_text()
    assert 'after_rotation' in current and 'before_rotation' not in current


# --- alerts ---------------------------------------------------------------------------------------


def _exported_names() -> dict[str, tuple[str, ...]]:
    """Every series name bloodq's registry exports, with its label names."""
    names: dict[str, tuple[str, ...]] = {}
    for collector in metrics.REGISTRY._collector_to_names:  # label names live on the collectors
        labels = tuple(getattr(collector, '_labelnames', ()))
        for name in metrics.REGISTRY._collector_to_names[collector]:
            names[name] = labels
    return names


def test_alert_rules_cover_the_four_conditions() -> None:
    """bloodq-alerts.yml is a valid rule file with the four alerts, each with expr, for and summary,
    written only in series and labels that bloodq exports (promtool checks it too when installed)."""
    doc = yaml.safe_load((SYSTEMD / 'bloodq-alerts.yml').read_text())
    rules = {r['alert']: r for group in doc['groups'] for r in group['rules']}
    assert set(rules) == set(ALERTS)
    exported = _exported_names()
    for name, rule in rules.items():
        expr = rule['expr']
        assert re.fullmatch(r'\d+[smh]', rule['for']), f'{name}: for: {rule["for"]!r}'
        assert rule['labels']['severity'] in ('warning', 'critical') and rule['annotations']['summary']
        assert expr.count('(') == expr.count(')'), f'{name}: unbalanced parentheses'
        used = set(re.findall(r'\bbloodq_[a-z_]+', expr))
        assert used and used <= set(exported), f'{name}: unknown series {used - set(exported)}'
        for series, label in re.findall(r'\b(bloodq_[a-z_]+)\{(\w+)=', expr):
            assert label in exported[series], f'{name}: {series} has no label {label}'
    assert 'bloodq_queue_length' in rules['BloodqQueueBacklog']['expr'] and '> 100' in rules['BloodqQueueBacklog']['expr']
    assert 'priority' in exported['bloodq_queue_length']
    assert 'bloodq_jobs_failed_total' in rules['BloodqHighFailureRate']['expr']
    assert 'bloodq_jobs_completed_total' in rules['BloodqHighFailureRate']['expr']
    assert '> 0.05' in rules['BloodqHighFailureRate']['expr'] and rules['BloodqQueueBacklog']['for'] == '5m'
    slow = rules['BloodqSlowJobs']['expr']
    assert '_sum' in slow and '_count' in slow and '> 300' in slow
    assert '== 0' in rules['BloodqNoConsumers']['expr'] and rules['BloodqNoConsumers']['for'] == '2m'
    promtool = shutil.which('promtool')
    if promtool:
        done = subprocess.run([promtool, 'check', 'rules', str(SYSTEMD / 'bloodq-alerts.yml')],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


# --- install.sh -----------------------------------------------------------------------------------


def test_install_sh_passes_bash_n_and_shellcheck(tools: dict[str, str]) -> None:
    """install.sh parses (bash -n) and has no shellcheck findings."""
    script = str(SYSTEMD / 'install.sh')
    subprocess.run(['bash', '-n', script], check=True, timeout=30)
    done = subprocess.run([tools['shellcheck'], script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_install_sh_stages_the_tree_and_is_idempotent(tmp_path: Path) -> None:
    """install.sh --prefix lays out code, env, units and logrotate; a second run upgrades but keeps the env."""
    root = tmp_path / 'root'
    cmd = ['bash', str(SYSTEMD / 'install.sh'), '--prefix', str(root), '--no-venv']
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    app = root / 'opt/bloodq'
    for rel in ('main.py', 'worker.py', 'requirements_queue.txt', 'bloodq/sdnotify.py', 'bloodq/queue/redis.py'):
        assert (app / rel).is_file(), rel
    assert not list(app.rglob('__pycache__'))
    for unit in UNITS:
        assert (root / 'etc/systemd/system' / unit).read_text() == (SYSTEMD / unit).read_text()
    assert (root / 'etc/logrotate.d/bloodq').read_text() == (SYSTEMD / 'logrotate.conf').read_text()
    env = root / 'etc/bloodq/bloodq.env'
    assert env.read_text() == (SYSTEMD / 'bloodq.env.example').read_text()
    assert env.stat().st_mode & 0o777 == 0o640
    for rel in ('var/lib/bloodq', 'var/log/bloodq'):
        assert (root / rel).is_dir() and (root / rel).stat().st_mode & 0o777 == 0o750

    env.write_text('API_TOKEN=operator-choice\n')
    (app / 'bloodq' / 'stale_module.py').write_text('# removed upstream\n')
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 0, second.stdout + second.stderr
    assert env.read_text() == 'API_TOKEN=operator-choice\n', 'an existing bloodq.env must never be overwritten'
    assert not (app / 'bloodq' / 'stale_module.py').exists(), 'a reinstall must replace the code tree'
    assert not list(app.glob('*.new')) and not list(app.glob('*.old'))


def test_install_sh_refuses_unknown_options(tmp_path: Path) -> None:
    """A mistyped option stops install.sh before it changes anything."""
    done = subprocess.run(['bash', str(SYSTEMD / 'install.sh'), '--prefix', str(tmp_path / 'r'), '--no-venvv'],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0 and 'unknown option' in done.stderr
    assert not (tmp_path / 'r' / 'opt').exists()
