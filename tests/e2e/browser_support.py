"""A real headless Chromium, driven by Selenium, for the web UI tests.

Chromium and its driver come from Debian's packages (``apt-get install chromium chromium-driver``,
which ``.ci/run`` does); Selenium from the test extra. Nothing is downloaded: Selenium Manager is
bypassed by naming the driver, and Chromium's background networking is off.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts" / "ui"  # gitignored: screenshots of each page
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


def _program(variable: str, *names: str) -> str | None:
    """``$variable`` when set (None if it names no file), else the first of ``names`` on PATH."""
    chosen = os.environ.get(variable)
    if chosen:
        return chosen if Path(chosen).is_file() else None
    return next((found for found in map(shutil.which, names) if found), None)


def chromium_binary() -> str | None:
    return _program("CMLOPS_CHROMIUM", "chromium", "chromium-browser")


def chromedriver_binary() -> str | None:
    return _program("CMLOPS_CHROMEDRIVER", "chromedriver")


def missing_browser() -> list[str]:
    """What the browser tests need and is not here, with how to get it."""
    missing = []
    if chromium_binary() is None:
        missing.append("Chromium (apt-get install chromium, or CMLOPS_CHROMIUM=PATH; .ci/run installs it)")
    if chromedriver_binary() is None:
        missing.append("chromedriver (apt-get install chromium-driver, or CMLOPS_CHROMEDRIVER=PATH)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install -e '.[test]')")
    return missing


@contextmanager
def chromium() -> Iterator[Any]:
    """A fresh headless Chromium (its own profile folder, removed afterwards)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="cmlops-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_binary() or ""
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver_binary() or ""), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_until(driver: Any, condition: Callable[[Any], Any], timeout: float = 60, what: str = "") -> Any:
    """Wait for ``condition(driver)`` to be truthy; fail naming ``what`` and the page's text."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.25).until(condition)
    except TimeoutException:
        body = driver.find_element("tag name", "body").text[:2000]
        raise AssertionError(
            f"timed out after {timeout} s waiting for {what}; page {driver.current_url}:\n{body}"
        ) from None


def screenshot(driver: Any, name: str, full_page: bool = True) -> Path:
    """Keep a PNG of the current page under tests/artifacts/ui/ (the whole page's height)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if full_page:
        driver.execute_script("window.scrollTo(0, 0)")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1400, max(1000, min(int(height) + 120, 6000)))
    driver.save_screenshot(str(path))
    driver.set_window_size(1400, 1000)
    return path
