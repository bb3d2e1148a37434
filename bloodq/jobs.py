"""The job record: status, priority and the fields every backend stores."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson


class JobStatus(StrEnum):
    """Where a job is in its life."""

    #: waiting in the queue (or scheduled for a retry)
    QUEUED = 'queued'
    #: held by a consumer under a lease
    PROCESSING = 'processing'
    #: finished with a result
    COMPLETED = 'completed'
    #: finished with an error
    FAILED = 'failed'
    #: stopped by a client
    CANCELLED = 'cancelled'

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.PROCESSING})


class Priority(StrEnum):
    """Which waiting list a job joins; consumers drain high before normal before low."""

    HIGH = 'high'
    NORMAL = 'normal'
    LOW = 'low'


PRIORITIES = (Priority.HIGH, Priority.NORMAL, Priority.LOW)


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(ms: int | None) -> str | None:
    """Milliseconds since the epoch as ISO 8601 UTC (``2026-11-22T06:00:00.123Z``)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec='milliseconds').replace('+00:00', 'Z')


def new_job_id() -> str:
    return str(uuid.uuid4())


def is_job_id(value: str) -> bool:
    """True for a canonical lower-case uuid4, the only ids bloodq hands out."""
    try:
        parsed = uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return parsed.version == 4 and str(parsed) == value


@dataclass(slots=True)
class Job:
    """A job as stored by every backend (the upload and report bytes live beside it)."""

    id: str
    query: str
    file_name: str
    file_size_bytes: int
    status: JobStatus = JobStatus.QUEUED
    priority: Priority = Priority.NORMAL
    created_ms: int = field(default_factory=now_ms)
    updated_ms: int = field(default_factory=now_ms)
    started_ms: int | None = None
    finished_ms: int | None = None
    attempts: int = 0  #: how many times a consumer started it
    failures: int = 0  #: transient failures and lapsed leases so far (retries are bounded by this)
    token: str = ''  #: fencing token of the current attempt
    worker_id: str = ''
    lease_until_ms: int = 0
    run_at_ms: int = 0  #: not before this time (retry backoff)
    cancel_requested: bool = False
    progress: int = 0
    stage: str = ''
    error: dict[str, str] | None = None
    result: dict[str, Any] | None = None
    request_id: str = ''
    has_report: bool = False
    callback: str = ''  #: URL notified when the job ends (completed or finally failed)
    webhook: dict[str, Any] | None = None  #: delivery state: attempts, last_status, delivered_at, gave_up

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: bytes | str) -> Job:
        data = orjson.loads(raw)
        data['status'] = JobStatus(data['status'])
        data['priority'] = Priority(data['priority'])
        return cls(**data)

    def public(self) -> dict[str, Any]:
        """The job as ``/status`` shows it."""
        out: dict[str, Any] = {
            'job_id': self.id,
            'status': self.status.value,
            'priority': self.priority.value,
            'created_at': iso(self.created_ms),
            'updated_at': iso(self.updated_ms),
            'started_at': iso(self.started_ms),
            'finished_at': iso(self.finished_ms),
            'attempts': self.attempts,
            'file_processed': self.file_name,
        }
        if self.status is JobStatus.PROCESSING:
            out['progress'] = self.progress
            out['stage'] = self.stage
        if self.status is JobStatus.COMPLETED:
            out['progress'] = 100
            out['result'] = self.result
        if self.has_report:
            out['report_url'] = f'/jobs/{self.id}/report.pdf'
        if self.error is not None:
            out['error'] = self.error
        if self.callback:
            state = self.webhook or {}
            out['callback'] = {'attempts': state.get('attempts', 0), 'last_status': state.get('last_status'),
                               'delivered_at': iso(state.get('delivered_ms')), 'gave_up': state.get('gave_up', False)}
        return out
