"""Browser fixtures: the session's app served by uvicorn on a free port, Debian's Chromium driven by playwright."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
PASSWORD = "geheim-und-lang-genug"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def ensure_chromium() -> str:
    """Debian's Chromium, installed with apt-get when missing (never `playwright install`: no internet)."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.fail(f"{CHROMIUM} fehlt und apt-get ist nicht vorhanden: bitte Chromium installieren.")
    for cmd in ([apt, "update"], [apt, "install", "-y", "chromium"]):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} schlug fehl ({done.returncode}):\n{done.stderr[-2000:]}")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"apt-get install chromium lief, aber {CHROMIUM} fehlt weiterhin.")
    return CHROMIUM


@pytest.fixture(scope="session")
async def base_url(app: Any) -> AsyncIterator[str]:
    """The session's app over real HTTP; its lifespan already runs in the `app` fixture, so uvicorn skips it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    # Leave Ctrl-C to pytest: uvicorn would otherwise take over SIGINT/SIGTERM for the whole session.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(200):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)
    sock.close()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    path = ensure_chromium()
    pw = await async_playwright().start()
    b = await pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
    yield b
    await b.close()
    await pw.stop()


@pytest.fixture
async def context(browser: Browser, base_url: str) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(base_url=base_url, locale="de-DE", viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(30_000)
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


async def login(page: Page, name: str, password: str = PASSWORD) -> None:
    """Log in through the form and wait for the start page."""
    await page.goto("/login")
    await page.get_by_label("Benutzername").fill(name)
    await page.get_by_label("Passwort").fill(password)
    await page.get_by_role("button", name="Anmelden").click()
    await page.wait_for_url(lambda url: "/login" not in url)


async def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
async def staff(make_api: Any) -> dict[str, Any]:
    """One user with a web password per role (same unit), shared by the UI tests."""
    return {role: await make_api(role, password=PASSWORD)
            for role in ("counselor", "authority_liaison", "authority_lead", "ops")}
