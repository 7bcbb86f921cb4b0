"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's live server.

Run with `./crmctl e2e` (or `pytest -m e2e tests/e2e`). No browser is downloaded: we launch the
system Chromium (CRM_CHROMIUM, default /usr/bin/chromium). Screenshots go to test-results/.
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
PASSWORD = "Secret-pass-123"  # crm.core.testing.org.make_user's default

# Report Content-Security-Policy violations on the console, where the collector below sees them.
# (An init script is injected by the browser itself and is not subject to the page's CSP.)
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture(scope="session", autouse=True)
def _allow_async_unsafe():
    """Playwright's sync API runs an event loop in this thread; Django would then refuse database
    access from it (the test's own queries and the transactional flush after each test)."""
    old = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if old is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = old


@pytest.fixture(scope="session")
def chromium(_allow_async_unsafe):
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium, or set CRM_CHROMIUM")
    RESULTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@dataclass
class BrowserLog:
    """What the browser reported while a test ran: console lines, script errors, bad responses."""

    console: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    bad_responses: list = field(default_factory=list)

    def csp_violations(self):
        pattern = re.compile(r"Content Security Policy|CSP violation", re.I)
        return [line for line in self.console if pattern.search(line)]

    def assert_clean(self):
        problems = (
            [f"CSP: {line}" for line in self.csp_violations()]
            + [f"script error: {e}" for e in self.page_errors]
            + [f"HTTP {status}: {url}" for status, url in self.bad_responses]
        )
        assert not problems, "the browser reported problems:\n" + "\n".join(problems)


@dataclass
class UI:
    page: object
    base_url: str
    log: BrowserLog

    def go(self, path):
        return self.page.goto(self.base_url + path)

    def login(self, username, password=PASSWORD):
        page = self.page
        self.go("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("[data-testid=login]")
        assert "/login/" not in page.url, "login failed"

    def screenshot(self, name, full_page=True):
        RESULTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(RESULTS / f"{name}.png"), full_page=full_page)

    def no_horizontal_overflow(self):
        widths = self.page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        return widths[0] <= widths[1], widths


def _open_ui(browser, live_server, **context_args):
    # A Chinese user's browser by default (zh-CN → zh-hans), as the product's main audience.
    context = browser.new_context(locale=context_args.pop("locale", "zh-CN"), **context_args)
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_REPORTER)
    page = context.new_page()
    log = BrowserLog()
    page.on("console", lambda msg: log.console.append(f"[{msg.type}] {msg.text}"))
    page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))

    def on_response(response):
        if response.status >= 500 or (response.status >= 400 and "/static/" in response.url):
            log.bad_responses.append((response.status, response.url))

    page.on("response", on_response)
    page.on("requestfailed", lambda req: log.bad_responses.append(("failed", req.url))
            if "/static/" in req.url else None)
    return context, UI(page=page, base_url=live_server.url, log=log)


@pytest.fixture
def ui(chromium, live_server):
    context, ui = _open_ui(chromium, live_server, viewport={"width": 1280, "height": 900})
    yield ui
    context.close()


@pytest.fixture
def phone_ui(chromium, live_server):
    context, ui = _open_ui(chromium, live_server, viewport={"width": 375, "height": 812},
                           device_scale_factor=2, is_mobile=True, has_touch=True)
    yield ui
    context.close()
