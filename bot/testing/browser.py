"""Headless Chromium for end-to-end tests of the operators' console, through Selenium.

Debian's `chromium` and `chromium-driver` (`make browser` installs them) give the two
binaries; Selenium talks to the driver it is handed and never runs Selenium Manager
(which would look for drivers on the internet). Chromium starts with a new empty profile
and without its background network traffic: on a closed network it hangs without those
flags. The WebDriver's calls block, so a test whose server runs in the same event loop
goes through `Browser.run`, which calls them in a thread.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.errors import VieError

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path(os.environ.get("VIE_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("VIE_CHROMEDRIVER", "/usr/bin/chromedriver"))
FLAGS = (
    "--headless",
    "--no-sandbox",  # as root, and in containers without user namespaces
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # /dev/shm is small in containers
    "--no-proxy-server",  # the console is on loopback
    "--window-size=1280,900",
)
T = TypeVar("T")


class NoBrowser(VieError):
    """No Chromium, no chromedriver or no Selenium here, or Chromium would not start."""


@dataclass
class Browser:
    """One headless Chromium: its `driver`, PNG `screenshot`s into `artefacts`, `quit`."""

    driver: WebDriver
    artefacts: Path
    profile: Path
    shots: list[Path] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        """The page as shown now, in `<artefacts>/<name>.png`."""
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"a screenshot's name is a plain file name, not {name!r}")
        path = self.artefacts / f"{name}.png"
        if not self.driver.save_screenshot(str(path)):
            raise NoBrowser(f"Chromium did not write the screenshot {path}")
        self.shots.append(path)
        return path

    async def run(self, call: Callable[[WebDriver], T]) -> T:
        """`call(driver)` in a thread, so that a server in this event loop can answer."""
        return await asyncio.to_thread(call, self.driver)

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def missing() -> str | None:
    """Why no browser can start here, or None."""
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM}: install Debian's chromium (make browser)"
    if not CHROMEDRIVER.is_file():
        return f"no chromedriver at {CHROMEDRIVER}: install Debian's chromium-driver"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "Selenium is not installed: pip install -e '.[dev]'"
    return None


def start_browser(artefacts: Path) -> Browser:
    """A headless Chromium with a new empty profile; screenshots go to `artefacts`."""
    if reason := missing():
        raise NoBrowser(reason)
    # Selenium Manager is never run (the driver's path is given); this also keeps the
    # statistics it would send to itself.
    os.environ.setdefault("SE_AVOID_STATS", "true")
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    artefacts.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.mkdtemp(prefix="vie-chromium-"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    service = Service(executable_path=str(CHROMEDRIVER), log_output=subprocess.DEVNULL)
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except WebDriverException as exc:
        shutil.rmtree(profile, ignore_errors=True)
        first = (exc.msg or type(exc).__name__).splitlines()[0]
        raise NoBrowser(f"Chromium would not start: {first}") from None
    driver.set_page_load_timeout(20)
    return Browser(driver, artefacts, profile)
