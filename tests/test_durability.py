"""Accepted jobs outlive restarts: the memory backend's journal and Redis's outage spool."""

from __future__ import annotations

from pathlib import Path

from redis_server import RedisServer

from bloodq.config import Settings
from bloodq.jobs import JobStatus
from bloodq.queue.memory import MemoryQueue
from bloodq.queue.redis import RedisQueue, connect_redis
from bloodq.storage import Journal

PDF = b'%PDF-1.4 journal test'


async def test_memory_journal_restores_unfinished_jobs_and_keeps_results(settings: Settings) -> None:
    """After a restart, waiting and running jobs are queued again; finished ones keep their result."""
    journal_dir = settings.data_path / 'journal'
    first = MemoryQueue(settings, Journal(journal_dir))
    await first.connect()
    jobs = [await first.enqueue(PDF, query='q', file_name='r.pdf') for _ in range(3)]
    done, running = await first.claim('w', 2)
    await first.complete(done, {'status': 'success'}, b'%PDF report')
    # the process dies here: `running` was in progress, jobs[2] was waiting

    second = MemoryQueue(settings, Journal(journal_dir))
    await second.connect()
    finished = await second.get(done.id)
    assert finished is not None and finished.status is JobStatus.COMPLETED
    assert finished.result == {'status': 'success'} and await second.get_report(done.id) == b'%PDF report'
    claimed = await second.claim('w', 5)
    assert sorted(j.id for j in claimed) == sorted([running.id, jobs[2].id])
    assert [await second.get_upload(j.id) for j in claimed] == [PDF, PDF]
    assert {j.id: j.attempts for j in claimed} == {running.id: 2, jobs[2].id: 1}
    assert await second.get_upload(done.id) is None


async def test_journal_never_turns_a_foreign_id_into_a_path(tmp_path: Path) -> None:
    """Only uuid4 job ids name files; anything else is refused before touching the disk."""
    journal = Journal(tmp_path)
    for bad in ('../etc/passwd', '', 'a' * 36, '1b4e28ba-2fa1-11d2-883f-0016d3cca427'):
        try:
            journal.load_upload(bad)
        except ValueError:
            continue
        raise AssertionError(f'{bad!r} was accepted as a path')


async def test_redis_outage_spools_uploads_then_moves_them_in_once(settings: Settings, tmp_path: Path) -> None:
    """While Redis is down, enqueue spools to disk; when it returns, each job enters Redis exactly once."""
    server = RedisServer().start()
    try:
        queue = RedisQueue(Settings.from_env({}, **{**_fields(settings), 'redis_url': server.url}),
                           connect_redis(server.url), listen=False, spool=Journal(tmp_path / 'spool'))
        await queue.connect()
        server.stop()
        job = await queue.enqueue(PDF, query='q', file_name='r.pdf')
        seen = await queue.get(job.id)
        assert seen is not None and seen.status is JobStatus.QUEUED
        stats = await queue.stats()
        assert stats['redis_up'] is False and stats['spooled'] == 1
        server.start()
        await queue.upkeep()
        await queue.upkeep()  # a second drain finds nothing to move
        assert queue.spooled() == 0
        [claimed] = await queue.claim('w', 5)
        assert claimed.id == job.id and await queue.get_upload(job.id) == PDF
        assert await queue.claim('w', 5) == []
        await queue.close()
    finally:
        server.cleanup()


def _fields(settings: Settings) -> dict[str, object]:
    return {f: getattr(settings, f) for f in settings.__dataclass_fields__}
