"""Every exception bloodq raises on purpose, under one root.

Each carries a stable machine ``code`` (what clients and job records see) and an HTTP
``status`` for the API layer. Messages must never contain patient data.
"""

from __future__ import annotations


class BloodqError(Exception):
    """Root of bloodq's exceptions."""

    code = 'internal'
    status = 500

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)

    def to_dict(self) -> dict[str, str]:
        return {'code': self.code, 'message': self.message}


# --- client errors (4xx at the API edge) ---------------------------------------------


class BadRequest(BloodqError):
    """The request is malformed."""

    code = 'bad_request'
    status = 400


class NotFound(BloodqError):
    """No such resource."""

    code = 'not_found'
    status = 404


class Conflict(BloodqError):
    """The resource is not in a state that allows this."""

    code = 'conflict'
    status = 409


class PayloadTooLarge(BloodqError):
    """The upload is larger than allowed."""

    code = 'file_too_large'
    status = 413


class Unprocessable(BloodqError):
    """The request is well formed but its content is refused."""

    code = 'unprocessable'
    status = 422


class Unauthorized(BloodqError):
    """A valid bearer token is required."""

    code = 'unauthorized'
    status = 401


class QueueFull(BloodqError):
    """The queue is at capacity; retry later."""

    code = 'queue_full'
    status = 503


class Unavailable(BloodqError):
    """The service cannot take this request right now."""

    code = 'unavailable'
    status = 503


# --- job failures (end a job as ``failed`` with ``code``) ---------------------------


class JobFailure(BloodqError):
    """A job could not be completed. ``transient`` failures are retried."""

    code = 'job_failed'
    status = 422
    transient = False


class PdfError(JobFailure):
    """The PDF could not be analysed."""

    code = 'pdf_error'


class CorruptPdf(PdfError):
    """The file is not a readable PDF (corrupt or truncated)."""

    code = 'corrupt_pdf'


class EncryptedPdf(PdfError):
    """The PDF is encrypted; upload an unprotected copy."""

    code = 'encrypted_pdf'


class NoTextLayer(PdfError):
    """Scanned report, no text layer: the PDF holds images only."""

    code = 'no_text_layer'


class PdfTooComplex(PdfError):
    """The PDF exceeds the analysis limits (pages, memory or CPU time)."""

    code = 'pdf_too_complex'


class JobTimeout(JobFailure):
    """The analysis ran past its time limit."""

    code = 'timeout'
    transient = True


class WorkerCrashed(JobFailure):
    """The analysis process died unexpectedly."""

    code = 'worker_crashed'
    transient = True


class Poison(JobFailure):
    """The job was redelivered too many times after killing its workers."""

    code = 'poison'


class Cancelled(JobFailure):
    """The job was cancelled."""

    code = 'cancelled'


class ConfigError(BloodqError):
    """The configuration is invalid."""

    code = 'config_error'
