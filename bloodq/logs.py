"""structlog set up to write one JSON object per line, to stderr and to a file.

Files are opened through :class:`logging.handlers.WatchedFileHandler`, so a file moved
away by logrotate is reopened on the next line. Log events carry ids and sizes, never
lab values or patient details: callers pass only those.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path
from typing import Any

import orjson
import structlog


def _dumps(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, default=str).decode()


def _rename_fields(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    if 'timestamp' in event:
        event['ts'] = event.pop('timestamp')
    if 'logger_name' in event:
        event['logger'] = event.pop('logger_name')
    return event


def setup_logging(log_dir: str | None, file_name: str, level: str = 'info') -> None:
    """Send structlog and stdlib logging to stderr and ``log_dir/file_name`` as JSON lines."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt='iso', utc=True, key='ts'),
        _rename_fields,
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ],
    )
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_dir:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.WatchedFileHandler(Path(log_dir) / file_name, encoding='utf-8'))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level.upper())
    # aiohttp's own access log is replaced by ours, which carries request ids.
    logging.getLogger('aiohttp.access').setLevel(logging.WARNING)
    structlog.configure(
        # drop filtered-out lines before any processor runs (timestamps are not free per job)
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    """A structlog logger named ``name`` (shows as ``logger`` in each line)."""
    return structlog.get_logger(name)
