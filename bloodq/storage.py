"""A local journal of jobs on disk: the in-memory backend's durability and Redis's spool.

One directory, three files per job, named only by the job's uuid4 (never by anything a
client sent): ``<id>.json`` (the record, with the result once there is one), ``<id>.pdf``
(the upload) and ``<id>.report.pdf``. Records are replaced atomically (write, fsync,
rename), so a crash leaves the old record or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from bloodq.jobs import Job, is_job_id
from bloodq.logs import get_logger

log = get_logger('bloodq.storage')


class Journal:
    """Job records, uploads and reports as files under ``root``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, job_id: str, suffix: str) -> Path:
        if not is_job_id(job_id):  # ids come from us; anything else never becomes a path
            raise ValueError('not a job id')
        return self.root / f'{job_id}{suffix}'

    def _write(self, path: Path, data: bytes, *, sync: bool) -> None:
        tmp = path.with_name(path.name + '.tmp')
        with open(tmp, 'wb') as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)

    def save_upload(self, job_id: str, data: bytes) -> None:
        self._write(self._path(job_id, '.pdf'), data, sync=True)

    def load_upload(self, job_id: str) -> bytes | None:
        return self._read(self._path(job_id, '.pdf'))

    def drop_upload(self, job_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(job_id, '.pdf').unlink()

    def save_record(self, job: Job, *, sync: bool = False) -> None:
        self._write(self._path(job.id, '.json'), job.to_json(), sync=sync)

    def load_record(self, job_id: str) -> Job | None:
        raw = self._read(self._path(job_id, '.json'))
        return Job.from_json(raw) if raw is not None else None

    def save_report(self, job_id: str, data: bytes) -> None:
        self._write(self._path(job_id, '.report.pdf'), data, sync=False)

    def load_report(self, job_id: str) -> bytes | None:
        return self._read(self._path(job_id, '.report.pdf'))

    def delete(self, job_id: str) -> None:
        for suffix in ('.json', '.pdf', '.report.pdf'):
            with contextlib.suppress(FileNotFoundError):
                self._path(job_id, suffix).unlink()

    def records(self) -> Iterator[Job]:
        """Every readable record; unreadable ones are logged and skipped."""
        for path in sorted(self.root.glob('*.json')):
            try:
                yield Job.from_json(path.read_bytes())
            except (OSError, ValueError, TypeError, KeyError) as exc:
                log.error('journal_record_unreadable', file=path.name, error=type(exc).__name__)

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob('*.json'))

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

