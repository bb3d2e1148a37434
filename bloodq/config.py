"""One frozen :class:`Settings`, built from the environment by :meth:`Settings.from_env`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from bloodq.errors import ConfigError

_BACKENDS = ('auto', 'redis', 'memory')


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob bloodq reads, with its environment variable in capitals.

    Durations carry their unit in the name; the environment variables keep the short
    names operators already know (``RESULT_TTL`` is seconds, ``LEASE_S`` is seconds).
    """

    host: str = '127.0.0.1'
    port: int = 8000
    redis_url: str = 'redis://localhost:6379/0'
    redis_max_connections: int = 64  #: per process; past it commands wait for a free connection
    queue_backend: str = 'auto'  #: auto | redis | memory
    queue_name: str = 'blood_analysis_queue'
    embedded_workers: int = os.cpu_count() or 1
    worker_count: int = 2
    max_upload_mb: float = 20.0
    upload_timeout_s: float = 60.0  #: a whole upload must arrive within this (slow-loris guard)
    result_ttl_s: int = 24 * 3600
    log_dir: str = './logs'
    data_dir: str = './data'
    log_level: str = 'info'
    job_timeout_s: float = 600.0
    lease_s: float = 30.0
    sweep_interval_s: float = 5.0
    max_retries: int = 3
    retry_backoff_s: float = 2.0
    max_tasks_per_child: int = 50
    shutdown_grace_s: float = 30.0
    sync_timeout_s: float = 60.0
    max_queue_size: int = 1000
    max_pages: int = 500
    child_memory_mb: int = 1024
    default_query: str = 'Summarise my blood test results'
    webhook_secret: str = ''  #: HMAC key for X-Bloodq-Signature
    webhook_allow_private: bool = False  #: allow callbacks to loopback/private/link-local addresses
    webhook_timeout_s: float = 10.0
    webhook_retry_base_s: float = 5.0  #: first retry delay; doubles each time
    webhook_retry_window_s: float = 900.0  #: give up once this long has passed since the first attempt
    public_url: str = ''  #: prefix for report_url in webhooks (``https://bloodq.example``); relative when empty
    api_token: str = ''  #: when set, every endpoint but /health (and the dashboard shell) needs Bearer <token>
    metrics_token: str = ''  #: optional separate token accepted on /metrics
    metrics_port: int = 0  #: worker.py serves /metrics here when set (the API serves it on PORT)
    metrics_host: str = '127.0.0.1'
    report_pdf: str = 'on_demand'  #: on_demand (drawn at the first GET, then kept) | eager (drawn with the analysis)
    handler: str = 'bloodq.tasks:AnalysisTask'  #: ``module:factory`` run for each job (benchmarks swap it)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def heartbeat_s(self) -> float:
        """How often a running job renews its lease and looks for a cancel request."""
        return min(self.lease_s / 3, 1.0)

    @property
    def key_prefix(self) -> str:
        """Everything bloodq keeps in Redis besides the waiting list sits under this."""
        return f'{self.queue_name}:'

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``env`` (default ``os.environ``); ``overrides`` win."""
        env = os.environ if env is None else env
        aliases = {'result_ttl_s': 'RESULT_TTL', 'job_timeout_s': 'JOB_TIMEOUT', 'sync_timeout_s': 'SYNC_TIMEOUT'}
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = aliases.get(f.name, f.name.upper())
            raw = env.get(name)
            if raw is None or raw == '':
                continue
            kind: Any = type(f.default)
            try:
                values[f.name] = kind(raw) if kind is not bool else raw.lower() in ('1', 'true', 'yes')
            except ValueError as exc:
                raise ConfigError(f'{name}={raw!r} is not a valid {kind.__name__}') from exc
        values.update(overrides)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.queue_backend not in _BACKENDS:
            raise ConfigError(f'QUEUE_BACKEND must be one of {", ".join(_BACKENDS)}, not {self.queue_backend!r}')
        if self.lease_s <= 0 or self.job_timeout_s <= 0:
            raise ConfigError('LEASE_S and JOB_TIMEOUT must be positive')
        if self.embedded_workers < 0 or self.worker_count < 1:
            raise ConfigError('EMBEDDED_WORKERS must be >= 0 and WORKER_COUNT >= 1')
        if self.redis_max_connections < 4:
            raise ConfigError('REDIS_MAX_CONNECTIONS must be at least 4 (pub/sub and blocking waits hold one each)')
        if self.report_pdf not in ('on_demand', 'eager'):
            raise ConfigError(f'REPORT_PDF must be on_demand or eager, not {self.report_pdf!r}')
        if not self.queue_name or any(c in self.queue_name for c in ' {}*?'):
            raise ConfigError('QUEUE_NAME must be a plain name')
