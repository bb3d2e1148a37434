"""Hostile and malformed PDFs against one real main.py: each ends as expected and the service stays whole.

The corpus (tests/hostile/make_corpus.py) is written into a temporary directory; one ``main.py`` with two
embedded workers (memory backend, CHILD_MEMORY_MB=512, JOB_TIMEOUT=20, MAX_RETRIES=1, MAX_PAGES=300) gets
every file at once. While the jobs run, ``/health`` latency, the API process's resident memory and the
analysis children are sampled. The campaign runs once per module; the tests below read its record.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hostile.make_corpus import CASES, generate
from pdfs import simple_report
from procs import Proc, get_json, launch, service_env, submit

pytestmark = pytest.mark.timeout(300)

ENV = {'EMBEDDED_WORKERS': 2, 'CHILD_MEMORY_MB': 512, 'JOB_TIMEOUT': 20, 'MAX_RETRIES': 1, 'MAX_PAGES': 300,
       'RETRY_BACKOFF_S': 0.5}
WORKERS = 2
CAMPAIGN_S = 150  #: every job must be terminal within this
HEALTH_LIMIT_S = 2.0  #: slowest acceptable /health answer while the corpus runs
RSS_LIMIT_MB = 300  #: the API process (analysis children are separate processes, each under RLIMIT_AS)
BOMB = 'bomb_flate_content'
FIRST = ('cpu_bomb_text_ops',)  #: the slowest jobs go in first so they overlap the rest
TERMINAL = ('completed', 'failed', 'cancelled')
EXPECT = {c.name: c.expect for c in CASES}


@dataclass
class Campaign:
    """What happened to each file and to the service while the corpus ran."""

    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    finals: dict[str, dict[str, Any]] = field(default_factory=dict)
    health: list[tuple[float, int]] = field(default_factory=list)  #: (seconds, HTTP status or 0)
    rss_kb: list[int] = field(default_factory=list)
    peak_rss_kb: int = 0
    children_max: int = 0
    children_seen: set[tuple[int, str]] = field(default_factory=set)  #: (pid, start time)
    children_after: int = 0
    after: list[dict[str, Any]] = field(default_factory=list)  #: normal reports sent once the corpus is done
    exit_code: int | None = None
    survivors: list[int] = field(default_factory=list)
    stderr: str = ''
    took_s: float = 0.0

    def outcome(self, name: str) -> str:
        status, body = self.answers[name]
        if status != 202:
            return f'rejected:{status}:{body.get("error", {}).get("code")}'
        final = self.finals.get(name)
        if final is None:
            return 'no terminal state (hang)'
        if final['status'] == 'failed':
            return f'failed:{final.get("error", {}).get("code")}'
        return str(final['status'])


def _proc_children(pid: int) -> dict[tuple[int, str], str]:
    """(pid, start time) -> state, for every process whose parent is ``pid``."""
    found: dict[tuple[int, str], str] = {}
    for entry in Path('/proc').iterdir():
        if not entry.name.isdigit():
            continue
        try:
            rest = (entry / 'stat').read_text().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(rest[1]) == pid:
            found[(int(entry.name), rest[19])] = rest[0]
    return found


def _alive(pid: int, started: str) -> bool:
    try:
        rest = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return False
    return rest[19] == started and rest[0] != 'Z'


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith(key + ':'):
            return int(line.split()[1])
    return 0


async def _watch(api: Proc, record: Campaign, stop: asyncio.Event) -> None:
    """Sample /health latency, the API's RSS and its children every 0.25 s until ``stop``."""
    assert api.proc is not None
    pid = api.proc.pid
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        while not stop.is_set():
            began = time.monotonic()
            try:
                async with http.get(f'{api.url}/health') as r:
                    await r.read()
                    status = r.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            record.health.append((time.monotonic() - began, status))
            record.rss_kb.append(_status_kb(pid, 'VmRSS'))
            kids = _proc_children(pid)
            record.children_seen |= kids.keys()
            record.children_max = max(record.children_max, sum(1 for s in kids.values() if s != 'Z'))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.25)


async def _terminal(http: aiohttp.ClientSession, url: str, job_id: str, deadline: float) -> dict[str, Any] | None:
    """Long-poll /status until the job is terminal; None past ``deadline``."""
    while (left := deadline - time.monotonic()) > 0:
        _, body = await get_json(http, f'{url}/status/{job_id}?wait={min(left, 30):.1f}')
        if body.get('status') in TERMINAL:
            return body
    return None


async def _run(api: Proc, corpus: Path, record: Campaign) -> None:
    await api.ready(30)
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch(api, record, stop))
    began = time.monotonic()
    names = list(FIRST) + [c.name for c in CASES if c.name not in FIRST]
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            for name in names:  # in order, so the slow jobs really start first
                record.answers[name] = await submit(http, api.url, (corpus / f'{name}.pdf').read_bytes(),
                                                    name=f'{name}.pdf')
            accepted = {n: body['job_id'] for n, (status, body) in record.answers.items() if status == 202}
            deadline = began + CAMPAIGN_S
            finals = await asyncio.gather(*(_terminal(http, api.url, i, deadline) for i in accepted.values()))
            record.finals = {n: f for n, f in zip(accepted, finals, strict=True) if f is not None}
            record.took_s = time.monotonic() - began
            # the pool must still be whole: one normal report per worker, at once
            sent = await asyncio.gather(*(submit(http, api.url, simple_report()) for _ in range(WORKERS)))
            ends = await asyncio.gather(*(_terminal(http, api.url, body['job_id'], time.monotonic() + 60)
                                          for _, body in sent))
            record.after = [e or {'status': 'no terminal state'} for e in ends]
    finally:
        stop.set()
        await watcher
    assert api.proc is not None
    record.peak_rss_kb = _status_kb(api.proc.pid, 'VmHWM')
    record.children_after = sum(1 for s in _proc_children(api.proc.pid).values() if s != 'Z')


@pytest.fixture(scope='module')
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Campaign:
    """Generate the corpus, run it through one main.py, stop it, and keep the record."""
    corpus = tmp_path_factory.mktemp('hostile_corpus')
    generate(corpus)
    workdir = tmp_path_factory.mktemp('hostile_service')
    started: list[Proc] = []
    api = launch(started, 'main.py', workdir, service_env('memory', None, **ENV))
    record = Campaign()
    try:
        asyncio.run(_run(api, corpus, record))
    finally:
        record.exit_code = api.stop(20)
        give_up = time.monotonic() + 10
        while (alive := [pid for pid, at in record.children_seen if _alive(pid, at)]) and time.monotonic() < give_up:
            time.sleep(0.05)  # polled against a deadline
        record.survivors = alive
        record.stderr = api.stderr()
    return record


@pytest.mark.parametrize('name', sorted(EXPECT))
def test_hostile_file_ends_in_an_expected_outcome(campaign: Campaign, name: str) -> None:
    """Each file is accepted (202) or refused with a 4xx JSON error, and its job ends as the manifest allows."""
    outcome = campaign.outcome(name)
    status, body = campaign.answers[name]
    if any(e.startswith('rejected:') for e in EXPECT[name]):
        assert 400 <= status < 500 and 'error' in body, (status, body)
    else:
        assert status == 202, (status, body)
        assert not outcome.endswith(':internal'), campaign.finals.get(name)
    expected = sorted(EXPECT[name])
    assert outcome in EXPECT[name], f'{name}: {outcome}, expected one of {expected}: {campaign.finals.get(name)}'


def test_corpus_is_large_and_deterministic(tmp_path: Path) -> None:
    """The generator writes at least 30 files plus a manifest, and the same bytes on every run."""
    first, second = generate(tmp_path / 'a'), generate(tmp_path / 'b')
    assert len(first) >= 30
    assert first == second
    assert (tmp_path / 'a' / 'manifest.json').is_file()


def test_health_answered_fast_throughout(campaign: Campaign) -> None:
    """/health answered 200, within HEALTH_LIMIT_S, every time it was asked while the corpus ran."""
    assert len(campaign.health) >= 20
    assert all(status == 200 for _, status in campaign.health), campaign.health
    slowest = max(seconds for seconds, _ in campaign.health)
    assert slowest < HEALTH_LIMIT_S, f'slowest /health took {slowest:.2f} s'


def test_decompression_bomb_ends_with_a_code_on_the_first_attempt(campaign: Campaign) -> None:
    """The 2 GiB flate bomb fails with pdf_too_complex, without killing its child (no retry)."""
    final = campaign.finals[BOMB]
    assert final['status'] == 'failed' and final['error']['code'] == 'pdf_too_complex', final
    assert final['attempts'] == 1


def test_api_process_memory_stayed_bounded(campaign: Campaign) -> None:
    """The API process's resident memory (VmRSS samples and its VmHWM peak) stayed under RSS_LIMIT_MB."""
    assert campaign.rss_kb and max(campaign.rss_kb) > 0
    assert max(campaign.rss_kb) < RSS_LIMIT_MB * 1024
    assert 0 < campaign.peak_rss_kb < RSS_LIMIT_MB * 1024


def test_pool_still_completes_normal_reports_afterwards(campaign: Campaign) -> None:
    """After the corpus, one normal report per worker completes with its results: no worker was lost."""
    assert [a['status'] for a in campaign.after] == ['completed'] * WORKERS, campaign.after
    assert all(a['result']['results'] for a in campaign.after)
    assert campaign.took_s < CAMPAIGN_S


def test_no_analysis_child_leaks_or_outlives_the_service(campaign: Campaign) -> None:
    """At most one child per worker (plus the API's report renderer) ever ran, and none outlives main.py."""
    assert campaign.children_seen, 'no analysis child was ever seen'
    assert campaign.children_max <= WORKERS + 1
    assert campaign.children_after <= WORKERS + 1
    assert campaign.exit_code == 0, campaign.stderr[-3000:]
    assert campaign.survivors == []


def test_no_process_died_with_a_traceback(campaign: Campaign) -> None:
    """Neither main.py nor any analysis child printed a traceback: every failure was mapped, none crashed."""
    at = campaign.stderr.find('Traceback')
    assert at < 0, campaign.stderr[at:at + 3000]
