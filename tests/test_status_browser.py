"""The status page in a real headless browser (Debian's Chromium and its driver, through selenium).

The page is served on 127.0.0.1 over a state file built by real passes against a WooCommerce and a
Shopify sandbox (tests/status_shops.py: a paused store, a held store, SKUs in each status). The
tests read what a person reads, and save a screenshot of each page under `.screenshots/`
(git-ignored). Skipped, with the reason, when Chromium or its driver is not installed
(`apt-get install -y chromium chromium-driver`); .ci/run installs them when it can.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from stockstatus.core.web import status_app
from stockstatus.core.web.serve import Serving, start
from tests.conftest import ROOT
from tests.status_shops import HANDLING_DAYS, PO_DAYS, Sandboxes, in_days, pinned, run_passes, sandboxes

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver") or (
    "/usr/lib/chromium/chromedriver" if Path("/usr/lib/chromium/chromedriver").exists() else None
)
SCREENSHOTS = ROOT / ".screenshots"
PHONE = (390, 844)
"""A phone's screen in CSS pixels."""

if CHROMIUM is None or DRIVER is None:
    pytest.skip(
        "no Chromium with its driver installed (apt-get install -y chromium chromium-driver)", allow_module_level=True
    )
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
By = pytest.importorskip("selenium.webdriver.common.by").By
WebDriverWait = pytest.importorskip("selenium.webdriver.support.wait").WebDriverWait


class PageServer:
    """The status page served from a thread of its own, on its own event loop (as the daemon's listener would)."""

    def __init__(self, boxes: Sandboxes) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="status-page", daemon=True)
        self.thread.start()
        app = status_app(boxes.load(), environ=dict(boxes.environ), clock=pinned)
        self.serving: Serving = asyncio.run_coroutine_threadsafe(start(app, "127.0.0.1:0"), self.loop).result(30)

    @property
    def url(self) -> str:
        return self.serving.url

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.serving.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch, sandboxes(tmp_path_factory.mktemp("browser")) as boxes:
        for name, value in boxes.environ.items():
            patch.setenv(name, value)
        patch.delenv("CONNECTOR_CONFIG", raising=False)
        run_passes(boxes)
        server = PageServer(boxes)
        try:
            yield server.url
        finally:
            server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=en-GB"):
        options.add_argument(argument)
    # The driver's path is given, so selenium never looks for (or downloads) one.
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER), options=options)
    driver.set_window_size(1280, 1000)
    SCREENSHOTS.mkdir(exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def shoot(driver: object, name: str) -> Path:
    """A screenshot of the whole page (its full height) under .screenshots/."""
    path = SCREENSHOTS / f"{name}.png"
    width = driver.execute_script("return document.documentElement.clientWidth")  # type: ignore[attr-defined]
    height = driver.execute_script("return document.documentElement.scrollHeight")  # type: ignore[attr-defined]
    size = driver.get_window_size()  # type: ignore[attr-defined]
    driver.set_window_size(max(size["width"], width), height + 140)  # type: ignore[attr-defined]
    driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    driver.set_window_size(size["width"], size["height"])  # type: ignore[attr-defined]
    assert path.stat().st_size > 10_000, f"{path} looks empty"
    return path


def test_the_overview_shows_the_held_store_and_why_and_the_paused_one(served, browser):
    browser.get(served + "/")
    held = browser.find_element(By.ID, "store-us-shop")
    paused = browser.find_element(By.ID, "store-eu-shop")
    assert held.get_attribute("data-health") == "held" and paused.get_attribute("data-health") == "paused"
    assert "would turn 10 of 13 items (77%) out of stock" in held.text
    assert "connector resync --store us-shop --force" in held.text
    assert "stocktake until Monday" in paused.text and "connector resume eu-shop" in paused.text
    shoot(browser, "overview")


def test_a_sku_page_shows_the_eta_on_the_chart(served, browser):
    browser.get(served + "/stores/eu-shop/skus/KTL-1")
    chart = browser.find_element(By.CSS_SELECTOR, "svg.chart")
    eta = in_days(PO_DAYS + HANDLING_DAYS)
    label = chart.find_element(By.CSS_SELECTOR, "text.label.eta")
    assert label.text == f"ETA {eta.day} {eta:%b}" and label.is_displayed()
    assert browser.find_element(By.ID, "eta").text == eta.isoformat()
    # The ETA marker stands to the right of today's, where the dates put it.
    today = chart.find_element(By.CSS_SELECTOR, "line.mark.today").rect
    marker = chart.find_element(By.CSS_SELECTOR, "line.mark.eta").rect
    assert marker["x"] > today["x"]
    assert chart.size["width"] > 600
    browser.set_window_size(1280, 1250)
    browser.save_screenshot(str(SCREENSHOTS / "sku-chart-top.png"))  # what the README shows
    browser.set_window_size(1280, 1000)
    shoot(browser, "sku-chart")


def test_filtering_a_stores_items_by_status_in_the_form(served, browser):
    browser.get(served + "/stores/us-shop")
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr[data-sku]")) == 13
    browser.find_element(By.CSS_SELECTOR, "select[name=status] option[value=backorder]").click()
    browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
    # The click starts a navigation; the answer is read once the new page is there.
    WebDriverWait(browser, 15).until(lambda driver: "status=backorder" in driver.current_url)
    WebDriverWait(browser, 15).until(lambda driver: "with status backorder" in driver.find_element(By.ID, "count").text)
    rows = browser.find_elements(By.CSS_SELECTOR, "tr[data-sku]")
    assert [r.get_attribute("data-sku") for r in rows] == ["LAMP-XL"]
    shoot(browser, "store-filtered")


def test_the_pages_fit_a_phone(served, browser):
    browser.set_window_size(*PHONE)
    try:
        for path, name in (("/", "phone-overview"), ("/stores/eu-shop/skus/KTL-1", "phone-sku")):
            browser.get(served + path)
            # Nothing but the tables' own scrolling boxes is wider than the screen.
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{path} is {overflow}px wider than a phone"
            shoot(browser, name)
    finally:
        browser.set_window_size(1280, 1000)
