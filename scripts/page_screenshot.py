"""Drive the reading page in headless Chromium: serve a model, paste an article, screenshot it.

    python -m scripts.page_screenshot --model models/default --article article.txt \\
        --topic "the JCPOA" --topic Afghanistan --output docs/screenshot.png --repeat 5

Prints how long the page took to draw the analysis after the API answered (the Performance API
measure ``analysis-render``). The browser tests in ``tests/test_page.py`` use the same helpers.
Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package (dev extra).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from stance.atomic import atomic_file

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these Chromium keeps reaching for Google's servers, and on a closed network it
    # then refuses connections to the page as well
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_paths() -> tuple[str, str] | None:
    """``(chromium, chromedriver)`` from PATH, or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def browser_missing() -> str | None:
    """Why the page cannot be driven here, or None when it can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if chromium_paths() is None:
        return "Chromium is not installed (apt-get install -y chromium chromium-driver)"
    return None


def free_port() -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(model: Path, timeout_s: float = 300.0, **settings) -> Iterator[str]:
    """Run the service on ``model`` under uvicorn in a thread; yield its URL once the model is loaded.

    A real server on a real port, in this process: it saves a second import of torch, which
    takes minutes on a busy machine.

    Args:
        model: a saved model folder.
        timeout_s: how long to wait for ``/ready``.
        settings: service settings (``max_topics=3``, ``api_key="..."``); ``STANCE_*`` variables
            are not read for ``api_key``, so a key set in the shell does not leak in.

    Raises:
        RuntimeError: the server stopped or did not get ready in time.
    """
    import uvicorn

    from serving.app import create_app
    from serving.settings import ServiceSettings

    port = free_port()
    config = ServiceSettings(
        model_path=str(model), port=port, api_key=settings.pop("api_key", None), **settings
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name=f"stance-serve-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if not thread.is_alive():
                raise RuntimeError("the server stopped before it was ready (see the log above)")
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server was not ready after {timeout_s:.0f} s")
            time.sleep(0.1)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def chromium(width: int = 1400, height: int = 1000, download_dir: Path | None = None):
    """A headless Chromium under Selenium with a fresh profile; closed on exit.

    Raises:
        RuntimeError: Chromium, its driver or selenium is missing (see :func:`browser_missing`).
    """
    reason = browser_missing()
    if reason:
        raise RuntimeError(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = chromium_paths()
    with tempfile.TemporaryDirectory(prefix="stance-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]:
            options.add_argument(flag)
        if download_dir is not None:
            options.add_experimental_option(
                "prefs",
                {"download.default_directory": str(download_dir), "download.prompt_for_download": False},
            )
        # an explicit driver path keeps Selenium Manager from looking for one online
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        try:
            if download_dir is not None:
                driver.execute_cdp_cmd(
                    "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)}
                )
            yield driver
        finally:
            driver.quit()


def wait_for(driver, condition, timeout_s: float = 60.0):
    """Wait until ``condition(driver)`` is truthy and return its value."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout_s, poll_frequency=0.05).until(condition)


def submit_article(driver, url: str, article: str, topics: list[str], type_article: bool = True) -> None:
    """Open the page, enter the article and topics, and press Ctrl+Enter.

    ``type_article=False`` sets the article through the DOM (as a paste would) instead of typing
    it key by key, which takes seconds for a long article.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(url)
    box = driver.find_element(By.ID, "article")
    if type_article:
        box.send_keys(article)
    else:
        driver.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            box,
            article,
        )
    topic_box = driver.find_element(By.ID, "topics")
    topic_box.send_keys("\n".join(topics))
    topic_box.send_keys(Keys.CONTROL, Keys.ENTER)


def wait_for_analysis(driver, timeout_s: float = 120.0) -> float:
    """Wait for the page to draw an analysis; return the render time after the API answered, in ms."""
    measure = "return performance.getEntriesByName('analysis-render', 'measure').map(e => e.duration)"
    durations = wait_for(driver, lambda d: d.execute_script(measure), timeout_s)
    return float(durations[-1])


def full_page_png(driver) -> bytes:
    """A PNG of the whole page, not just the window (the window is grown to the document)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    window = driver.get_window_size()
    driver.set_window_size(window["width"], max(window["height"], height + 140))
    try:
        return driver.get_screenshot_as_png()
    finally:
        driver.set_window_size(window["width"], window["height"])


@contextmanager
def model_folder(name: str) -> Iterator[Path]:
    """``name`` as a path, or for ``tiny`` a temporary tiny random-init model (as the tests build)."""
    if name != "tiny":
        yield Path(name)
        return
    from stance.model.classifier import StanceClassifier
    from tests.conftest import build_tiny_base

    with tempfile.TemporaryDirectory(prefix="stance-tiny-") as tmp:
        base = build_tiny_base(Path(tmp) / "base")
        StanceClassifier.from_base(base, max_length=32).save_pretrained(Path(tmp) / "model")
        yield Path(tmp) / "model"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model",
        required=True,
        help="saved model folder, or 'tiny' for the tests' random-init model (its labels mean nothing)",
    )
    parser.add_argument("--article", type=Path, required=True, help="a UTF-8 .txt article")
    parser.add_argument("--topic", action="append", required=True, help="a topic (repeat for more)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1100)
    parser.add_argument("--repeat", type=int, default=1, help="analyses to time (fresh page each)")
    parser.add_argument(
        "--hover", default="Sergei Lavrov", help="open the card of this speaker's first quote ('' for none)"
    )
    args = parser.parse_args(argv)
    article = args.article.read_text(encoding="utf-8")

    from selenium.webdriver.common.by import By

    with model_folder(args.model) as model, serve(model) as url, chromium(args.width, args.height) as driver:
        timings = []
        for _ in range(args.repeat):
            submit_article(driver, url, article, args.topic, type_article=False)
            timings.append(wait_for_analysis(driver))
        if args.hover:
            marks = driver.find_elements(By.CSS_SELECTOR, f'mark.q[data-speaker="{args.hover}"]')
            if marks:
                driver.execute_script("arguments[0].focus({preventScroll: true})", marks[0])
        png = full_page_png(driver)
    with atomic_file(args.output, "wb") as handle:
        handle.write(png)
    median = statistics.median(timings)
    print(
        f"render after the API answered: median {median:.1f} ms, max {max(timings):.1f} ms "
        f"over {len(timings)} analyses (goal < 1000 ms); screenshot {args.output}"
    )


if __name__ == "__main__":
    main()
