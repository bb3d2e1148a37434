"""The aiohttp application: middlewares, routes and the background work it owns."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from bloodq import metrics
from bloodq.api import dashboard
from bloodq.api.routes import QUEUE, RENDERER, REQUEST_ID, SETTINGS, STARTED, json, routes
from bloodq.config import Settings
from bloodq.errors import BloodqError, Unauthorized
from bloodq.logs import get_logger
from bloodq.pool import WorkerPool
from bloodq.queue import BACKEND_ERRORS, open_queue
from bloodq.tasks import ReportRenderer, handler_factory

log = get_logger('bloodq.api')
access_log = get_logger('bloodq.access')

POOL = web.AppKey('pool', WorkerPool)
#: what a 503 (queue full, backend away) suggests to the client
RETRY_AFTER_S = 5

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, code: str, message: str) -> web.Response:
    return json({'error': {'code': code, 'message': message}}, status=status)


@web.middleware
async def errors_and_access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error as ``{"error": {"code", "message"}}``; one access-log line per request."""
    supplied = request.headers.get('X-Request-ID', '')
    request[REQUEST_ID] = supplied if supplied.isalnum() and len(supplied) <= 64 else uuid.uuid4().hex
    started = time.perf_counter()
    try:
        if not _authorised(request, request.app[SETTINGS]):
            raise Unauthorized('send Authorization: Bearer <API_TOKEN>')
        response = await handler(request)
    except BloodqError as exc:
        response = _error(exc.status, exc.code, exc.message)
        if exc.status == 503:
            response.headers['Retry-After'] = str(RETRY_AFTER_S)
        if exc.status in (408, 413):
            response.force_close()  # the rest of the body is not worth reading
        if exc.status == 401:
            response.headers['WWW-Authenticate'] = 'Bearer realm="bloodq"'
    except BACKEND_ERRORS as exc:
        log.warning('backend_unreachable', request_id=request[REQUEST_ID], error=type(exc).__name__)
        response = _error(503, 'queue_unavailable', 'the queue backend is unreachable; try again shortly')
        response.headers['Retry-After'] = str(RETRY_AFTER_S)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {404: 'not_found', 405: 'method_not_allowed', 413: 'file_too_large'}.get(exc.status, 'http_error')
        response = _error(exc.status, code, exc.reason)
        if 'Allow' in exc.headers:  # 405 must say what is allowed (RFC 9110)
            response.headers['Allow'] = exc.headers['Allow']
    except Exception as exc:
        log.exception('request_failed', request_id=request[REQUEST_ID], error=type(exc).__name__)
        response = _error(500, 'internal', 'internal error; the request id is in the server log')
    response.headers['X-Request-ID'] = request[REQUEST_ID]
    resource = request.match_info.route.resource
    route = resource.canonical if resource else 'unmatched'  # never the raw path: bounded label values
    elapsed_s = time.perf_counter() - started
    access_log.info('request', method=request.method, path=route, status=response.status,
                    duration_ms=round(elapsed_s * 1000, 2), request_id=request[REQUEST_ID])
    metrics.HTTP_REQUESTS.labels(route, request.method, str(response.status)).inc()
    metrics.HTTP_LATENCY.labels(route).observe(elapsed_s)
    return response


#: paths anyone may fetch: liveness, and static pages that hold no data and ask for the token themselves
PUBLIC_PATHS = frozenset({'/health', '/dashboard', '/openapi.json'})


def _authorised(request: web.Request, settings: Settings) -> bool:
    """Bearer token check in constant time; one token = one operator (see README, Access)."""
    if not settings.api_token or request.path in PUBLIC_PATHS:
        return True
    scheme, _, supplied = request.headers.get('Authorization', '').partition(' ')
    if scheme.lower() != 'bearer' or not supplied:
        return False
    tokens = [settings.api_token]
    if request.path == '/metrics' and settings.metrics_token:
        tokens.append(settings.metrics_token)
    # compare against every token so timing does not say which one nearly matched
    matches = [hmac.compare_digest(supplied.encode(), t.encode()) for t in tokens]
    return any(matches)


async def _queue_ctx(app: web.Application) -> AsyncIterator[None]:
    app[QUEUE] = await open_queue(app[SETTINGS], listen=True)
    log.info('queue_ready', backend=app[QUEUE].backend)
    yield
    await app[QUEUE].close()


async def _renderer_ctx(app: web.Application) -> AsyncIterator[None]:
    renderer = app[RENDERER] = ReportRenderer(app[QUEUE], app[SETTINGS])
    # started in the background (~15 MB idle) so the first report asked for does not wait for imports
    warm = asyncio.create_task(renderer.warm(), name='renderer-warm')
    yield
    warm.cancel()
    await asyncio.gather(warm, return_exceptions=True)
    await renderer.close()


async def _pool_ctx(app: web.Application) -> AsyncIterator[None]:
    settings, queue = app[SETTINGS], app[QUEUE]
    if settings.embedded_workers <= 0:
        yield
        return
    pool = WorkerPool(queue, settings, handler_factory(queue, settings), slots=settings.embedded_workers,
                      name='embedded')
    app[POOL] = pool
    await pool.start()
    yield
    await pool.stop()


async def _upkeep_ctx(app: web.Application) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await app[QUEUE].upkeep()
            except BACKEND_ERRORS as exc:
                log.debug('upkeep_deferred', error=type(exc).__name__)

    task = asyncio.create_task(loop(), name='api-upkeep')
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(settings: Settings) -> web.Application:
    """The API app; the queue and the embedded pool start and stop with it."""
    app = web.Application(middlewares=[errors_and_access_log], client_max_size=settings.max_upload_bytes + 1024**2)
    app[SETTINGS] = settings
    app[STARTED] = time.monotonic()
    app.cleanup_ctx.extend([_queue_ctx, _renderer_ctx, _upkeep_ctx, _pool_ctx])
    app.add_routes(routes)
    app.add_routes(dashboard.routes)
    return app
