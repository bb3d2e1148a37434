"""The dashboard in a real browser: Debian's chromium driven by Playwright against a real ``main.py``.

Playwright's own browser download is never used (``playwright install`` fails offline): the tests launch
``/usr/bin/chromium``, installing it with apt-get when it is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pdfs import simple_report
from procs import Proc, launch, service_env, submit

try:
    from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect
except ImportError:  # pragma: no cover -- requirements-dev.txt installs it
    if os.environ.get('CI'):
        raise
    pytest.skip('playwright is not installed: pip install -r requirements-dev.txt', allow_module_level=True)

CHROMIUM = Path('/usr/bin/chromium')
CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync']
SCREENSHOT_COPY = Path('/tmp/bloodq-dashboard.png')
#: long enough for apt-get to fetch chromium on a first run
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope='session')
def chromium() -> Path:
    """Debian's chromium, installed with apt-get when missing; outside CI a failed install skips, in CI it fails."""
    if CHROMIUM.exists():
        return CHROMIUM
    problem = ''
    if shutil.which('apt-get') is None:
        problem = 'apt-get is not available'
    else:
        done = subprocess.run('apt-get update && apt-get install -y --no-install-recommends chromium', shell=True,
                              capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0 or not CHROMIUM.exists():
            problem = f'apt-get exited {done.returncode}: {done.stderr.strip()[-500:]}'
    if problem:
        message = f'{CHROMIUM} is missing and could not be installed ({problem}); the dashboard tests need it'
        if os.environ.get('CI'):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """A headless chromium for one test."""
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


class Watched:
    """A page with what it complained about and every URL it asked for."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.requested: list[str] = []
        page.on('console', self._console)
        page.on('pageerror', lambda exc: self.page_errors.append(str(exc)))
        page.on('request', lambda request: self.requested.append(request.url))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == 'error':
            self.console_errors.append(message.text)


async def open_dashboard(browser: Browser, proc: Proc) -> Watched:
    page = await browser.new_page(viewport={'width': 1280, 'height': 900})
    watched = Watched(page)
    response = await page.goto(f'{proc.url}/dashboard')
    assert response is not None and response.status == 200
    headers = response.headers
    assert headers['content-type'] == 'text/html; charset=utf-8'
    assert headers['cache-control'] == 'no-store'
    assert headers['content-security-policy'] == (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; img-src 'self' data:")
    return watched


def dashboard_env(**extra: str) -> dict[str, str]:
    return service_env('memory', None, HANDLER='handlers:SleepTask', EMBEDDED_WORKERS='1', **extra)


async def test_upload_follow_and_live_updates(tmp_path: Path, procs: list[Proc], browser: Browser) -> None:
    """A PDF uploaded through the form is followed to completed; the jobs and consumers tables and the cards update live."""
    proc = launch(procs, 'main.py', tmp_path, dashboard_env())
    await proc.ready()
    watched = await open_dashboard(browser, proc)
    page = watched.page
    await expect(page.locator('#backend')).to_have_text('memory')
    await expect(page.locator('#health')).to_have_text('healthy')
    await expect(page.locator('#stat-workers')).to_have_text('1')
    await expect(page.locator('#consumers-body tr[data-consumer-id]')).to_have_count(1)
    await expect(page.locator('#token-overlay')).to_be_hidden()

    pdf = tmp_path / '<img src=x onerror=alert(1)>.pdf'  # shown as text, never parsed as markup
    pdf.write_bytes(simple_report())
    await page.set_input_files('#file', str(pdf))
    await page.fill('#query', 'sleep:1')
    await page.select_option('#priority', 'high')
    await page.click('#submit')

    await expect(page.locator('#follow-status')).to_have_text('completed', timeout=20_000)
    job_id = await page.locator('#follow').get_attribute('data-job-id')
    assert job_id
    await expect(page.locator('#follow-result')).to_contain_text('"slept_s": 1')  # the query reached the worker
    await expect(page.locator('#follow-no-report')).to_be_visible()  # SleepTask makes no PDF

    row = page.locator(f'#jobs-table tbody tr[data-job-id="{job_id}"]')
    await expect(row).to_have_attribute('data-status', 'completed', timeout=5_000)
    await expect(row.locator('td').nth(1)).to_have_text(pdf.name)
    await expect(row.locator('td').nth(2)).to_have_text('high')
    await expect(row.locator('a.report-link')).to_have_count(0)  # links only where a report exists
    await expect(page.locator('#stat-throughput')).to_have_text('1', timeout=5_000)
    await expect(page.locator('#stat-failure-rate')).to_have_text('0 %')
    await expect(page.locator('#stat-avg')).to_have_text(re.compile(r'^1\.\d\d s$'), timeout=5_000)
    await expect(page.locator('#jobs-by-status [data-count="completed"]')).to_have_text('completed 1')

    # a slower job sent from elsewhere shows up as processing, with its stage and the consumer holding it
    async with aiohttp.ClientSession() as http:
        status, body = await submit(http, proc.url, simple_report(), name='second.pdf', query='sleep:4',
                                    priority='low')
    assert status == 202, body
    busy = page.locator(f'#jobs-table tbody tr[data-job-id="{body["job_id"]}"]')
    await expect(busy).to_have_attribute('data-status', 'processing', timeout=5_000)
    await expect(busy.locator('[role=progressbar]')).to_have_attribute('aria-valuenow', '50')
    await expect(busy.locator('.stage')).to_have_text('parsing · 50 %')
    await expect(page.locator('#consumers-body [data-follow]')).to_have_text(body['job_id'][:8])
    await expect(page.locator('#stat-processing')).to_have_text('1')

    await page.screenshot(path=str(tmp_path / 'dashboard.png'), full_page=True)
    shutil.copyfile(tmp_path / 'dashboard.png', SCREENSHOT_COPY)
    assert watched.page_errors == [] and watched.console_errors == []  # includes CSP violations
    assert all(url.startswith(f'{proc.url}/') for url in watched.requested), 'the page must work offline'


async def test_token_prompt_unlocks_the_stats(tmp_path: Path, procs: list[Proc], browser: Browser) -> None:
    """With API_TOKEN set the page asks for the token, refuses a wrong one, and shows the stats once it has it."""
    proc = launch(procs, 'main.py', tmp_path, dashboard_env(API_TOKEN='secret'))
    await proc.ready()
    watched = await open_dashboard(browser, proc)
    page = watched.page
    await expect(page.locator('#token-form')).to_be_visible()
    await expect(page.locator('#token-error')).to_be_hidden()
    await expect(page.locator('#stat-workers')).to_have_text('–')

    await page.fill('#token', 'not-the-token')
    await page.click('#token-submit')
    await expect(page.locator('#token-error')).to_be_visible()
    await expect(page.locator('#stat-workers')).to_have_text('–')
    await page.screenshot(path=str(tmp_path / 'token-prompt.png'))

    await page.fill('#token', 'secret')
    await page.click('#token-submit')
    await expect(page.locator('#token-form')).to_be_hidden()
    await expect(page.locator('#stat-workers')).to_have_text('1')
    await expect(page.locator('#health')).to_have_text('healthy')
    await expect(page.locator('#jobs-body td.empty')).to_have_text('no jobs yet — upload a report')
    assert await page.evaluate("sessionStorage.getItem('bloodq.token')") == 'secret'

    await page.reload()  # the token survives a reload of the tab
    await expect(page.locator('#stat-workers')).to_have_text('1')
    await expect(page.locator('#token-form')).to_be_hidden()
    assert watched.page_errors == []
    assert all('401' in text for text in watched.console_errors), watched.console_errors
