"""The analysis child: reads jobs as frames on stdin, writes progress and results on stdout.

A job is an upload to analyse or (``kind: render``) a stored result whose report PDF is wanted.

It runs under resource limits (address space, CPU time per job) so a hostile PDF can only
take this process down, never its parent. Frames are a 4-byte big-endian length then the
body; control frames are JSON, the PDF and the report are raw bytes.
"""

from __future__ import annotations

import logging
import math
import os
import resource
import struct
import sys
import warnings
from typing import Any, BinaryIO

import orjson

from bloodq.errors import JobFailure, PdfTooComplex

_HEADER = struct.Struct('>I')


def read_frame(stream: BinaryIO) -> bytes | None:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    body = stream.read(size)
    return body if len(body) == size else None


def write_frame(stream: BinaryIO, body: bytes) -> None:
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def _limit_cpu(seconds: float) -> None:
    """Allow ``seconds`` more CPU time from now; past that the kernel sends SIGXCPU.

    The allowance is a little under the wall-clock JOB_TIMEOUT, so a PDF that only burns CPU
    ends as ``pdf_too_complex`` (permanent) rather than as a timeout that would be retried.
    """
    used = resource.getrusage(resource.RUSAGE_SELF)
    # RLIMIT_CPU counts whole seconds: round up, or a child that has spent 1.9 s gets 0.1 s, not 1 s
    soft = math.ceil(used.ru_utime + used.ru_stime + max(seconds * 0.9, 1.0))
    # only the soft limit moves: a lowered hard limit could never be raised again for the next job
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def serve(inp: BinaryIO, out: BinaryIO, memory_mb: int) -> None:
    """Answer jobs until stdin closes."""
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from bloodq.analysis.pipeline import analyse  # after the limits, so imports count too
    from bloodq.report import render_report

    write_frame(out, orjson.dumps({'type': 'ready', 'pid': os.getpid()}))
    while True:
        header = read_frame(inp)
        pdf = read_frame(inp) if header is not None else None
        if header is None or pdf is None:
            return
        meta: dict[str, Any] = orjson.loads(header)
        _limit_cpu(meta['cpu_s'])

        def progress(stage: str, pct: int) -> None:
            write_frame(out, orjson.dumps({'type': 'progress', 'stage': stage, 'progress': pct}))

        result: dict[str, Any]
        try:
            if meta.get('kind') == 'render':  # the body is a stored result: draw its report PDF
                result, report = {}, render_report(orjson.loads(pdf))
            else:
                result, report = analyse(pdf, query=meta['query'], file_name=meta['file_name'],
                                         max_pages=meta['max_pages'], progress=progress,
                                         render=meta.get('render', True))
            done = orjson.dumps({'type': 'done', 'result': result})
        except JobFailure as exc:
            write_frame(out, orjson.dumps({'type': 'error', **exc.to_dict()}))
            continue
        except (MemoryError, RecursionError):
            write_frame(out, orjson.dumps({'type': 'error', **PdfTooComplex().to_dict()}))
            continue
        except Exception as exc:  # noqa: BLE001 -- a bug on one input must not cost the child (or poison the job)
            failure = JobFailure(f'internal error while analysing ({type(exc).__name__})', code='internal')
            write_frame(out, orjson.dumps({'type': 'error', **failure.to_dict()}))
            continue
        write_frame(out, done)
        write_frame(out, report)


def _quiet_libraries() -> None:
    """pypdf logs and warns with text taken from the upload: keep that out of every log."""
    logging.getLogger().addHandler(logging.NullHandler())
    logging.getLogger('pypdf').setLevel(logging.CRITICAL + 1)
    logging.getLogger('fpdf').setLevel(logging.CRITICAL + 1)
    logging.lastResort = None
    warnings.simplefilter('ignore')


def main() -> None:
    # Our protocol owns fd 1; anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(1), 'wb')
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _quiet_libraries()
    memory_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    serve(sys.stdin.buffer, out, memory_mb)


if __name__ == '__main__':
    main()
