"""The API contract: schemathesis generates requests from /openapi.json against a running main.py."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import strategies as st
from pdfs import not_a_lab_report, simple_report
from procs import Proc, service_env

import bloodq.api.routes  # noqa: F401 -- the routes the document must cover
from bloodq.api.app import create_app
from bloodq.config import Settings


@pytest.fixture(scope='session')
def live_api() -> Iterator[str]:
    """One real main.py (memory backend, two workers) for the whole contract run."""
    with tempfile.TemporaryDirectory(prefix='bloodq-openapi-') as tmp:
        proc = Proc('main.py', Path(tmp), service_env('memory', None, MAX_QUEUE_SIZE=100000, WEBHOOK_ALLOW_PRIVATE=1)).start()
        asyncio.run(proc.ready())
        yield proc.url
        proc.stop()


@pytest.fixture(scope='session')
def api_schema(live_api: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f'{live_api}/openapi.json')


# uploads are checked by their bytes, so "a valid application/pdf part" has to be a PDF
schemathesis.openapi.media_type('application/pdf', st.sampled_from([simple_report(), not_a_lab_report()]))
schema = schemathesis.pytest.from_fixture('api_schema')


@schemathesis.hook
def map_body(context: schemathesis.HookContext, body: object) -> object:
    """Generated callbacks point at a closed loopback port: real deliveries, no traffic leaves the machine."""
    if isinstance(body, dict) and '://' in str(body.get('callback', '')):
        body['callback'] = 'http://127.0.0.1:9/hook'
    return body


@schema.parametrize()
def test_every_endpoint_honours_its_contract(case: schemathesis.Case) -> None:
    """No 5xx, and every response matches the documented status, content type and schema."""
    case.call_and_validate()


def test_document_covers_every_route() -> None:
    """Every route the app serves is described in the OpenAPI document (and nothing else)."""
    from bloodq.api.openapi import document

    app = create_app(Settings.from_env({}, queue_backend='memory', embedded_workers=0, log_dir=''))
    served = {r.canonical for r in app.router.resources()}
    documented = set(document()['paths'])
    assert documented <= served and served - documented <= {'/dashboard'}
