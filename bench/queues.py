"""bloodq's Redis queue core against the popular Python queues, in one run on one private Redis.

    python bench/queues.py [--jobs 5000] [--latency-n 300] [--runs 3] [--only bloodq,arq] [--quick]

Systems: bloodq (``RedisQueue`` + ``WorkerPool``, 10 slots, leases/fencing/heartbeat/sweep on),
arq (poll 0.5 s default, and 10 ms), saq, rq (``SimpleWorker`` and the forking ``Worker``),
celery (threads pool, 10), dramatiq (10 threads), taskiq (``ListQueueBroker`` and
``RedisStreamBroker``, 10 async tasks). The peers are installed, pinned, into their own venv
``bench/.venv-peers`` (made on first use) and run by its interpreter; bloodq runs with this
one. Every system stores its results in Redis and runs a no-op task returning ``{'ok': True}``.

Per system and run, in one adapter process (``bench/peers/<name>_peer.py``, driver in
``bench/peers/common.py`` which documents the method in full):

* e2e: enqueue ``--jobs`` jobs, then ONE worker process (10 concurrent slots; rq: 1) drains
  them. jobs/s = jobs / (Nth completion - first job start); the completion is each system's
  own "result stored" hook (bloodq: ``Queue.complete`` returned True; arq ``after_job_end``;
  saq ``after_process``; celery ``task_success``; dramatiq ``after_process_message`` after
  ``Results``; taskiq ``post_save``; rq: the burst ``work()`` returned).
  rq's forking worker forks once per job, so it drains at most 1000 jobs.
* enqueue: ``--jobs`` sequential enqueues from one client, jobs/s.
* latency: an idle worker; ``--latency-n`` times enqueue one job and wait until its result
  is readable through the system's result API; p50/p99 ms. A system whose samples take
  longer than 30 s stops there (at least 30 samples; arq's 0.5 s poll does).

Figures are the median of ``--runs`` runs. Also measured: the Redis ceiling (unpipelined
PING round trips/s on one redis-py asyncio connection) and, from ``INFO commandstats``
deltas, Redis commands per job for everyone and bloodq's round trips per job. The table
goes to stdout, everything to ``bench/out/queues.json``, worker/adapter stderr to
``bench/out/logs/``. The last line is ``bloodq_vs_best_peer_e2e=<bloodq e2e / best peer e2e>``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / 'bench'
PEERS = BENCH / 'peers'
VENV = BENCH / '.venv-peers'
OUT = BENCH / 'out'
sys.path[:0] = [str(ROOT / 'tests')]

from redis_server import RedisServer

#: one venv for every peer: arq needs redis<6 and taskiq-redis 1.0.9 (the last on redis 5)
#: does not import with taskiq 0.13, so taskiq stays on 0.12.6
PEER_PINS = (
    'arq==0.28.0',
    'saq==0.26.4',
    'rq==3.0.0',
    'celery[redis]==5.6.3',
    'kombu==5.6.2',
    'dramatiq[redis]==2.2.1',
    'taskiq==0.12.6',
    'taskiq-redis==1.0.9',
    'redis==5.3.1',
    'hiredis==3.5.0',
)
PEER_DISTS = ('arq', 'saq', 'rq', 'celery', 'kombu', 'dramatiq', 'taskiq', 'taskiq-redis', 'redis', 'hiredis')

#: commands bloodq's client sends itself; everything else in its commandstats ran inside a Lua script
BLOODQ_TOP_LEVEL = ('evalsha', 'eval', 'blpop', 'ping', 'hello', 'client|setinfo', 'script|load', 'subscribe',
                    'select')
RUN_TIMEOUT_S = 1800


@dataclass(frozen=True)
class System:
    name: str
    script: str
    variant: str = ''
    peer: bool = True
    max_e2e_jobs: int = 0  #: 0: no cap
    note: str = ''


SYSTEMS = (
    System('bloodq', 'bloodq_peer.py', peer=False, note='RedisQueue + WorkerPool(slots=10)'),
    System('arq', 'arq_peer.py', note='max_jobs 10, poll_delay 0.5 s (default)'),
    System('arq-poll10ms', 'arq_peer.py', 'poll10ms', note='max_jobs 10, poll_delay 10 ms'),
    System('saq', 'saq_peer.py', note='concurrency 10'),
    System('rq-simple', 'rq_peer.py', 'simple', note='SimpleWorker: 1 job at a time'),
    System('rq-fork', 'rq_peer.py', 'fork', max_e2e_jobs=1000, note='Worker: fork per job, 1 at a time'),
    System('celery', 'celery_peer.py', note='-P threads -c 10'),
    System('dramatiq', 'dramatiq_peer.py', note='worker_threads 10'),
    System('taskiq-list', 'taskiq_peer.py', 'list', note='ListQueueBroker, max_async_tasks 10'),
    System('taskiq-stream', 'taskiq_peer.py', 'stream', note='RedisStreamBroker, max_async_tasks 10'),
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--jobs', type=int, default=5000, help='jobs of the e2e and enqueue runs')
    parser.add_argument('--latency-n', type=int, default=300, help='one-at-a-time jobs of the latency run')
    parser.add_argument('--runs', type=int, default=3, help='runs per system; figures are medians')
    parser.add_argument('--only', default='', help='comma-separated systems; "rq" means rq-simple and rq-fork')
    parser.add_argument('--quick', action='store_true', help='development: --jobs 500 --latency-n 50 --runs 1')
    parser.add_argument('--log-level', default='warning', help="bloodq's LOG_LEVEL in its processes")
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.latency_n, args.runs = 500, 50, 1
    return args


def select(only: str) -> list[System]:
    if not only:
        return list(SYSTEMS)
    wanted = [w.strip() for w in only.split(',') if w.strip()]
    chosen = [s for s in SYSTEMS if any(s.name == w or s.name.startswith(f'{w}-') for w in wanted)]
    unknown = [w for w in wanted if not any(s.name == w or s.name.startswith(f'{w}-') for s in SYSTEMS)]
    if unknown:
        raise SystemExit(f'unknown system(s) {", ".join(unknown)}; known: {", ".join(s.name for s in SYSTEMS)}')
    return chosen


# --- the peers' venv ---------------------------------------------------------------------------

def ensure_venv() -> Path:
    """``bench/.venv-peers`` with :data:`PEER_PINS` installed (re-installed when the pins change)."""
    python = VENV / 'bin' / 'python'
    stamp = VENV / 'bench-pins.txt'
    wanted = '\n'.join(PEER_PINS) + '\n'
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if not python.exists():
        print(f'creating {VENV.relative_to(ROOT)} ...', file=sys.stderr)
        subprocess.run([sys.executable, '-m', 'venv', str(VENV)], check=True)
    print('installing the peers ...', file=sys.stderr)
    subprocess.run([str(python), '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', *PEER_PINS],
                   check=True)
    stamp.write_text(wanted)
    return python


def versions(peer_python: Path, server: redis.Redis) -> dict[str, str]:
    code = ('import importlib.metadata as m, json, sys; '
            f'print(json.dumps({{d: m.version(d) for d in {PEER_DISTS!r}}}))')
    found: dict[str, str] = json.loads(subprocess.run([str(peer_python), '-c', code], check=True,
                                                      capture_output=True, text=True).stdout)
    info = server.info('server')
    found['server'] = (f'valkey {info["valkey_version"]}' if 'valkey_version' in info
                       else f'redis {info["redis_version"]}')
    found['python'] = platform.python_version()
    found['bloodq redis-py'] = redis.__version__
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        found['bloodq hiredis'] = importlib.metadata.version('hiredis')
    return found


# --- Redis itself ----------------------------------------------------------------------------

async def ping_rate(url: str, n: int) -> float:
    """Unpipelined PING round trips per second on one redis-py asyncio connection."""
    r = aioredis.Redis.from_url(url)
    for _ in range(200):
        await r.ping()
    t0 = time.perf_counter()
    for _ in range(n):
        await r.ping()
    elapsed = time.perf_counter() - t0
    await r.aclose()
    return n / elapsed


def ping_rate_in(python: Path, url: str, n: int) -> float:
    """The same, in another interpreter (the peers' venv has hiredis, bloodq's has not)."""
    code = (f'import asyncio, sys; sys.path.insert(0, {str(BENCH)!r}); import queues; '
            f'print(asyncio.run(queues.ping_rate({url!r}, {n})))')
    out = subprocess.run([str(python), '-c', code], check=True, capture_output=True, text=True,
                         env={**os.environ, 'PYTHONPATH': str(ROOT / 'tests')})
    return float(out.stdout.strip().splitlines()[-1])


# --- running one system ----------------------------------------------------------------------

def run_system(system: System, args: argparse.Namespace, url: str, peer_python: Path, run: int) -> dict[str, Any]:
    python = str(peer_python) if system.peer else sys.executable
    e2e_jobs = min(args.jobs, system.max_e2e_jobs) if system.max_e2e_jobs else args.jobs
    cmd = [python, str(PEERS / system.script), 'measure', '--redis', url, '--variant', system.variant,
           '--jobs', str(args.jobs), '--e2e-jobs', str(e2e_jobs), '--latency-n', str(args.latency_n)]
    logs = OUT / 'logs'
    logs.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != 'BENCH_EXPECT'}
    env['BENCH_LOG_LEVEL'] = args.log_level
    with open(logs / f'{system.name}.run{run + 1}.log', 'w') as err:
        try:
            done = subprocess.run(cmd, check=False, stdout=subprocess.PIPE, stderr=err, text=True, env=env,
                                  timeout=RUN_TIMEOUT_S, cwd=ROOT)
        except subprocess.TimeoutExpired:
            return {'error': f'timed out after {RUN_TIMEOUT_S} s'}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith('@@result '):
            result: dict[str, Any] = json.loads(line.removeprefix('@@result '))
            return result
    return {'error': f'no result (exit {done.returncode}); see bench/out/logs/{system.name}.run{run + 1}.log'}


def figure(runs: list[dict[str, Any]], step: str, key: str) -> float | None:
    values = [r[step][key] for r in runs if r.get(step, {}).get(key) is not None]
    return statistics.median(values) if values else None


def per_job(stats: dict[str, int], jobs: int, names: tuple[str, ...] | None = None) -> float:
    return sum(v for k, v in stats.items() if names is None or k in names) / jobs


def summarise(system: System, runs: list[dict[str, Any]]) -> dict[str, Any]:
    errors = sorted({f'{step}: {r[step]["error"]}' for r in runs for step in r
                     if isinstance(r[step], dict) and 'error' in r[step]}
                    | {r['error'] for r in runs if 'error' in r})
    errors += [f'e2e spot check {failure}' for r in runs for failure in r.get('e2e', {}).get('spot_check_failures', [])]
    e2e_runs = [r['e2e'] for r in runs if 'jobs_per_s' in r.get('e2e', {})]
    enqueue_runs = [r['enqueue'] for r in runs if 'jobs_per_s' in r.get('enqueue', {})]
    cmds = [per_job(e['commands_drain_phase'], e['jobs']) + per_job(q['commands'], q['jobs'])
            for e, q in zip(e2e_runs, enqueue_runs, strict=False)]
    return {
        'e2e_jobs_per_s': figure(runs, 'e2e', 'jobs_per_s'),
        'e2e_jobs': e2e_runs[0]['jobs'] if e2e_runs else None,
        'enqueue_jobs_per_s': figure(runs, 'enqueue', 'jobs_per_s'),
        'p50_ms': figure(runs, 'latency', 'p50_ms'),
        'p99_ms': figure(runs, 'latency', 'p99_ms'),
        'latency_n': figure(runs, 'latency', 'n'),
        'redis_commands_per_job': statistics.median(cmds) if cmds else None,
        'worker_cpu_us_per_job': figure(runs, 'e2e', 'worker_cpu_us_per_job'),
        'redis_cpu_us_per_job': figure(runs, 'e2e', 'redis_cpu_us_per_job'),
        'client_cpu_us_per_enqueue': figure(runs, 'enqueue', 'client_cpu_us_per_job'),
        'note': system.note,
        'errors': errors,
    }


def bloodq_round_trips(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Round trips (commands bloodq's client sent) and commands Redis ran (Lua included), per job."""
    out: dict[str, list[float]] = {}
    for r in runs:
        e2e = r.get('e2e', {})
        if 'jobs' not in e2e:
            continue
        n = e2e['jobs']
        for phase in ('enqueue', 'drain'):
            stats = e2e[f'commands_{phase}_phase']
            out.setdefault(f'{phase}_round_trips', []).append(per_job(stats, n, BLOODQ_TOP_LEVEL))
            out.setdefault(f'{phase}_commands', []).append(per_job(stats, n))
            for name in ('evalsha', 'blpop'):
                out.setdefault(f'{phase}_{name}', []).append(stats.get(name, 0) / n)
            usec = e2e[f'server_usec_{phase}_phase']
            out.setdefault(f'{phase}_lua_usec', []).append(usec.get('evalsha', 0) / n)
    return {k: statistics.median(v) for k, v in out.items()}


# --- output ----------------------------------------------------------------------------------

def fmt(value: float | None, digits: int = 0) -> str:
    return '-' if value is None else f'{value:,.{digits}f}'


def table(summary: dict[str, dict[str, Any]]) -> list[str]:
    head = (f'{"system":<14} {"e2e jobs/s":>11} {"enqueue jobs/s":>15} {"p50 ms":>8} {"p99 ms":>8} '
            f'{"cmds/job":>9} {"wkr CPU us":>10} {"redis CPU us":>12}  notes')
    lines = [head, '-' * len(head)]
    for name, s in summary.items():
        notes = s['note']
        if s['e2e_jobs'] and s['e2e_jobs'] != max(x['e2e_jobs'] or 0 for x in summary.values()):
            notes += f'; e2e over {s["e2e_jobs"]} jobs'
        if s['latency_n'] is not None and s['latency_n'] < max(x['latency_n'] or 0 for x in summary.values()):
            notes += f'; latency n={s["latency_n"]:.0f} (30 s budget)'
        if s['errors']:
            notes += f'; ERRORS: {" | ".join(e[:110] for e in s["errors"])}'
        lines.append(f'{name:<14} {fmt(s["e2e_jobs_per_s"]):>11} {fmt(s["enqueue_jobs_per_s"]):>15} '
                     f'{fmt(s["p50_ms"], 2):>8} {fmt(s["p99_ms"], 2):>8} {fmt(s["redis_commands_per_job"], 1):>9} '
                     f'{fmt(s["worker_cpu_us_per_job"]):>10} {fmt(s["redis_cpu_us_per_job"]):>12}  {notes}')
    return lines


def ratio(summary: dict[str, dict[str, Any]], key: str) -> float | None:
    ours = summary.get('bloodq', {}).get(key)
    best = max((s[key] for name, s in summary.items() if name != 'bloodq' and s[key]), default=None)
    return ours / best if ours and best else None


def main() -> int:
    args = parse_args()
    systems = select(args.only)
    peer_python = ensure_venv()
    OUT.mkdir(parents=True, exist_ok=True)
    server = RedisServer().start()
    try:
        r = redis.Redis.from_url(server.url)
        meta = {'jobs': args.jobs, 'latency_n': args.latency_n, 'runs': args.runs, 'cores': os.cpu_count(),
                'log_level': args.log_level, 'started': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
                'versions': versions(peer_python, r)}
        pings = max(args.jobs * 2, 5000)
        ceiling: dict[str, list[float]] = {'redis_py': [], 'redis_py_hiredis': []}
        runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in systems}
        for run in range(args.runs):
            r.flushall()
            ceiling['redis_py'].append(asyncio.run(ping_rate(server.url, pings)))
            ceiling['redis_py_hiredis'].append(ping_rate_in(peer_python, server.url, pings))
            for system in systems:
                print(f'run {run + 1}/{args.runs}: {system.name} ...', file=sys.stderr, flush=True)
                runs[system.name].append(run_system(system, args, server.url, peer_python, run))
    finally:
        server.cleanup()
    summary = {s.name: summarise(s, runs[s.name]) for s in systems}
    ping = {k: statistics.median(v) for k, v in ceiling.items()}
    trips = bloodq_round_trips(runs['bloodq']) if 'bloodq' in runs else {}
    e2e_ratio, enqueue_ratio = ratio(summary, 'e2e_jobs_per_s'), ratio(summary, 'enqueue_jobs_per_s')

    v = meta['versions']
    print(f'queues: {args.runs} run(s), median; e2e {args.jobs} jobs, enqueue {args.jobs} jobs, latency '
          f'{args.latency_n} jobs; {v["server"]} private on 127.0.0.1; {os.cpu_count()} cores; Python {v["python"]}')
    print('\n'.join(table(summary)))
    print('cmds/job: Redis commands per job (enqueue + e2e drain, Lua-internal included); wkr CPU us / redis CPU us: '
          'CPU microseconds per job of the worker process / the Redis server during the e2e drain')
    print(f'Redis ceiling: {ping["redis_py"]:,.0f} PING round trips/s (redis-py {v["bloodq redis-py"]} asyncio, '
          f'one connection, no pipelining; {ping["redis_py_hiredis"]:,.0f}/s with redis-py {v["redis"]} + hiredis '
          'as in the peers venv)')
    if trips:
        print(f'bloodq Redis round trips per job (e2e): enqueue {trips["enqueue_round_trips"]:.2f} '
              f'(EVALSHA {trips["enqueue_evalsha"]:.2f}), drain {trips["drain_round_trips"]:.2f} '
              f'(EVALSHA {trips["drain_evalsha"]:.2f}, BLPOP {trips["drain_blpop"]:.2f}); '
              f'commands Redis ran per job incl. inside Lua: enqueue {trips["enqueue_commands"]:.1f}, '
              f'drain {trips["drain_commands"]:.1f}; Redis time inside the Lua scripts per job: '
              f'enqueue {trips["enqueue_lua_usec"]:.0f} us (ENQUEUE), drain {trips["drain_lua_usec"]:.0f} us '
              '(CLAIM + FINISH + upkeep)')
    print('peers: ' + ', '.join(f'{d} {v[d]}' for d in PEER_DISTS) + ' (bench/.venv-peers); bloodq: this '
          f'interpreter, redis-py {v["bloodq redis-py"]}, hiredis {v.get("bloodq hiredis", "not installed")}')
    if enqueue_ratio is not None:
        print(f'bloodq_vs_best_peer_enqueue={enqueue_ratio:.2f}')
    report = {'meta': meta, 'redis_ping_per_s': ping, 'bloodq_per_job': trips, 'summary': summary, 'runs': runs,
              'bloodq_vs_best_peer_e2e': e2e_ratio, 'bloodq_vs_best_peer_enqueue': enqueue_ratio}
    (OUT / 'queues.json').write_text(json.dumps(report, indent=2))
    print('bloodq_vs_best_peer_e2e=' + (f'{e2e_ratio:.2f}' if e2e_ratio is not None else 'nan'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
