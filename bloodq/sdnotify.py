"""The systemd notify protocol (``sd_notify(3)``), written by hand so bloodq needs no extra package.

systemd passes a ``Type=notify`` service the address of a datagram socket in ``$NOTIFY_SOCKET``;
the service sends newline-separated ``KEY=VALUE`` assignments to it: ``READY=1`` once it serves,
``STOPPING=1`` when it begins to shut down, ``WATCHDOG=1`` at least once per ``WatchdogSec=``
(systemd passes that interval in ``$WATCHDOG_USEC``), and ``STATUS=...`` for ``systemctl status``.

Outside systemd (no ``$NOTIFY_SOCKET``) every call is a no-op that returns False, so the same
code runs under a terminal, a test or a container. A send never blocks the event loop and never
raises: the socket is non-blocking and any ``OSError`` is reported as False.
"""

from __future__ import annotations

import asyncio
import os
import socket

from bloodq.logs import get_logger

log = get_logger('bloodq.sdnotify')
_failures = 0  # only the first failed send is a warning; a broken socket would otherwise flood the log

__all__ = ['notify', 'ready', 'status', 'stopping', 'watchdog_interval_s', 'watchdog_loop', 'watchdog_ping']


def _address(raw: str) -> str | bytes | None:
    """The socket address for ``$NOTIFY_SOCKET``: a path, or an abstract name (leading ``@``)."""
    if raw.startswith('@'):
        return b'\0' + raw[1:].encode()
    if raw.startswith('/'):
        return raw
    return None  # vsock: and other transports newer systemd versions know are not used by bloodq


def notify(state: str) -> bool:
    """Send ``state`` (e.g. ``'READY=1'``) as one datagram to ``$NOTIFY_SOCKET``.

    True when the datagram was sent; False when the variable is unset or not a Unix socket
    address, or when sending failed (no listener, the receiver's queue is full).
    """
    raw = os.environ.get('NOTIFY_SOCKET', '')
    address = _address(raw) if raw else None
    if address is None or not state:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.setblocking(False)
            sock.sendto(state.encode(), address)
    except OSError as exc:
        global _failures
        _failures += 1
        report = log.warning if _failures == 1 else log.debug
        report('sd_notify_failed', error=type(exc).__name__, detail=str(exc), failures=_failures)
        return False
    return True


def ready() -> bool:
    """Tell systemd start-up is complete (``READY=1``): ``systemctl start`` returns now."""
    return notify('READY=1')


def stopping() -> bool:
    """Tell systemd the service is shutting down on its own (``STOPPING=1``)."""
    return notify('STOPPING=1')


def watchdog_ping() -> bool:
    """Keep the ``WatchdogSec=`` timer from firing (``WATCHDOG=1``)."""
    return notify('WATCHDOG=1')


def status(text: str) -> bool:
    """Show ``text`` as the service's status line in ``systemctl status`` (``STATUS=...``).

    Line breaks are replaced by spaces: each line of a datagram is a separate assignment.
    """
    return notify('STATUS=' + ' '.join(text.splitlines()))


def watchdog_interval_s() -> float | None:
    """How often to ping the watchdog, in seconds: half of ``$WATCHDOG_USEC``.

    None when the watchdog is off: ``$WATCHDOG_USEC`` unset, not a positive integer, or
    ``$WATCHDOG_PID`` set to another process (the variable was inherited from a parent).
    """
    raw = os.environ.get('WATCHDOG_USEC', '')
    try:
        usec = int(raw)
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = os.environ.get('WATCHDOG_PID', '')
    if pid and pid != str(os.getpid()):
        return None
    return usec / 1_000_000 / 2


async def watchdog_loop() -> None:
    """Ping the watchdog every :func:`watchdog_interval_s` while this event loop runs.

    Start it with ``asyncio.create_task(watchdog_loop())`` and cancel it at shutdown. The pings
    come from the event loop itself, so a loop wedged by blocking code stops pinging and systemd
    kills and restarts the service after ``WatchdogSec=``. Returns at once when the watchdog is off.
    """
    interval = watchdog_interval_s()
    if interval is None:
        return
    log.info('watchdog_enabled', interval_s=interval)
    while True:
        watchdog_ping()
        await asyncio.sleep(interval)
