"""One queue interface (:class:`Queue`) and its two backends, picked by :func:`open_queue`."""

from bloodq.queue.base import Lease, Queue

__all__ = ['Lease', 'Queue']
