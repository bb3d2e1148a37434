"""Prometheus metrics, every name prefixed ``bloodq_``; no label ever carries patient data.

Counters are kept by the process that does the work (the API counts submits and HTTP
requests, a pool counts outcomes and durations). Queue-wide gauges are read from the
queue when ``/metrics`` is scraped. ``worker.py`` serves its own registry on
``METRICS_PORT`` when that is set.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server

REGISTRY = CollectorRegistry()

_DURATION_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)
_HTTP_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60)

JOBS_SUBMITTED = Counter('bloodq_jobs_submitted', 'Jobs accepted', ['priority'], registry=REGISTRY)
JOBS_COMPLETED = Counter('bloodq_jobs_completed', 'Jobs completed', registry=REGISTRY)
JOBS_FAILED = Counter('bloodq_jobs_failed', 'Jobs ended as failed', ['reason'], registry=REGISTRY)
JOBS_RETRIED = Counter('bloodq_jobs_retried', 'Attempts sent back for a retry', ['reason'], registry=REGISTRY)
JOBS_CANCELLED = Counter('bloodq_jobs_cancelled', 'Jobs cancelled while running', registry=REGISTRY)
LEASE_RECOVERIES = Counter('bloodq_lease_recoveries', 'Jobs recovered after their lease lapsed', registry=REGISTRY)
WEBHOOKS = Counter('bloodq_webhook_deliveries', 'Webhook delivery attempts', ['outcome'], registry=REGISTRY)
JOB_DURATION = Histogram('bloodq_job_duration_seconds', 'Time spent per job and per analysis stage', ['stage'],
                         buckets=_DURATION_BUCKETS_S, registry=REGISTRY)
HTTP_REQUESTS = Counter('bloodq_http_requests', 'HTTP requests', ['route', 'method', 'status'], registry=REGISTRY)
HTTP_LATENCY = Histogram('bloodq_http_request_duration_seconds', 'HTTP request latency', ['route'],
                         buckets=_HTTP_BUCKETS_S, registry=REGISTRY)
QUEUE_LENGTH = Gauge('bloodq_queue_length', 'Jobs waiting', ['priority'], registry=REGISTRY)
PROCESSING = Gauge('bloodq_jobs_processing', 'Jobs held by a consumer', registry=REGISTRY)
CONSUMERS = Gauge('bloodq_consumers_live', 'Consumers seen within one lease', registry=REGISTRY)
REDIS_UP = Gauge('bloodq_redis_up', '1 when the Redis backend answers (memory backend: absent)', registry=REGISTRY)
SPOOLED = Gauge('bloodq_spooled_jobs', 'Uploads waiting on local disk for Redis to return', registry=REGISTRY)


def observe_queue(stats: dict[str, Any]) -> None:
    """Set the queue-wide gauges from a ``Queue.stats()`` reading."""
    for priority, length in stats.get('queue_length_by_priority', {}).items():
        QUEUE_LENGTH.labels(priority).set(length)
    PROCESSING.set(stats.get('processing', 0))
    CONSUMERS.set(stats.get('workers', 0))
    if stats.get('backend') == 'redis':
        REDIS_UP.set(1 if stats.get('redis_up', True) else 0)
        SPOOLED.set(stats.get('spooled', 0))


def observe_outcome(result: dict[str, Any] | None, total_s: float) -> None:
    """Record a completed job's duration, and its stages when the analysis reported them."""
    JOB_DURATION.labels('total').observe(total_s)
    for stage, seconds in ((result or {}).get('stage_timings_s') or {}).items():
        JOB_DURATION.labels(stage).observe(float(seconds))


def render() -> bytes:
    return generate_latest(REGISTRY)


def serve(port: int, host: str = '127.0.0.1') -> None:
    """Expose this process's registry on its own port (standalone workers)."""
    start_http_server(port, addr=host, registry=REGISTRY)
