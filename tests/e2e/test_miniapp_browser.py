"""The mini-app in a real headless Chromium (Debian's package, driven by Playwright) against the
running assistant: opened by a host's launch token at phone width, a procedure question, a
report with a shared location and a photo, its card and state, and a reload that keeps the
conversation; axe-core's accessibility rules checked on the page as the citizen sees it.
Screenshots go to results/screenshots/ (copied to docs/images/ for the docs).
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from bot.apiclients.models import create_host
from bot.db import make_engine, make_sessionmaker
from bot.reports.models import Report
from bot.settings import ROOT
from tests.service.media.images import phone_jpeg

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
SHOTS = ROOT / "results" / "screenshots"
PHONE = {"width": 360, "height": 740}
HUE = {"latitude": 16.4637, "longitude": 107.5909}
REPLY_TIMEOUT = 60_000  # ms; the first answers of a fresh Rasa process can be slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/ensure_chromium.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def host(stack) -> dict[str, str]:
    factory = make_sessionmaker(make_engine(stack["settings"].database_url))
    with factory() as session:
        new = create_host(session, name="Hue-S (thử nghiệm)", slug="hue-s-e2e")
    assert new.launch_secret is not None
    return {"slug": "hue-s-e2e", "secret": new.launch_secret}


def launch_token(host: dict[str, str], citizen: str) -> str:
    now = int(time.time())
    claims = {
        "iss": host["slug"],
        "aud": "hue-s-assistant",
        "sub": citizen,
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, host["secret"], algorithm="HS256")


def base(stack) -> str:
    return f"http://127.0.0.1:{stack['port']}"


@pytest.fixture
def pages(browser: Browser, request: pytest.FixtureRequest) -> Iterator[list[Page]]:
    """The pages a test opens; on a failure each is saved as a screenshot for the log."""
    opened: list[Page] = []
    yield opened
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for n, page in enumerate(opened):
            shoot(page, f"failed-{request.node.name}-{n}")
    for page in opened:
        page.context.close()


def open_page(browser: Browser, url: str, pages: list[Page]) -> tuple[Page, list[str]]:
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
        geolocation=HUE,
        permissions=["geolocation"],
    )
    page = context.new_page()
    pages.append(page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(url)
    return page, requested


def assistant_says(page: Page, pattern: str) -> None:
    expect(page.locator("#log .msg.assistant").last).to_contain_text(
        re.compile(pattern), timeout=REPLY_TIMEOUT
    )


def accessibility_violations(page: Page) -> list[str]:
    """What axe-core (run inside the page) finds wrong: rule, impact and where."""
    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in found]


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_a_citizen_uses_the_mini_app_from_a_host_app(stack, browser, host, pages, tmp_path):
    url = f"{base(stack)}/app/#launch={launch_token(host, 'citizen-e2e')}"
    page, requested = open_page(browser, url, pages)
    # The launch token is taken off the address at once (it may be used only once).
    expect(page).to_have_url(f"{base(stack)}/app/")
    assistant_says(page, "Xin chào|Chào")  # the greeting of a new conversation

    # A procedure question, typed and sent with the keyboard.
    page.get_by_label("Tin nhắn").fill("đăng ký khai sinh cần giấy tờ gì")
    page.keyboard.press("Enter")
    expect(page.locator("#log .msg.citizen").last).to_contain_text("đăng ký khai sinh")
    assistant_says(page, "Mã thủ tục")
    assert page.locator("#log .msg.assistant a[href^='https://']").count() >= 1  # official link
    page.locator("#log .msg.assistant").last.evaluate("e => e.scrollIntoView({block: 'start'})")
    shoot(page, "miniapp-procedure")
    assert accessibility_violations(page) == []

    # A report: the description, then the place from the phone's location, then a photo.
    page.get_by_label("Tin nhắn").fill("đèn đường trước nhà tắt mấy hôm rồi, tối đi sợ lắm")
    page.get_by_role("button", name="Gửi", exact=True).click()
    assistant_says(page, "Sự việc ở đâu")
    page.get_by_role("button", name="📍 Gửi vị trí hiện tại").click()
    assistant_says(page, "ảnh chụp hiện trường")
    photo = tmp_path / "hien-truong.jpg"
    photo.write_bytes(phone_jpeg())
    page.locator("#photo").set_input_files(str(photo))
    expect(page.locator("#log .msg.citizen img.photo").last).to_be_visible()
    assistant_says(page, "nguy hiểm cho người")
    page.get_by_role("button", name="Không nguy hiểm").click()
    assistant_says(page, "tóm tắt phản ánh")
    expect(page.locator("#log .msg.assistant").last).to_contain_text("• Ảnh: 1 ảnh")
    send = page.get_by_role("button", name="Gửi phản ánh")
    send.focus()
    page.keyboard.press("Enter")  # buttons work from the keyboard
    assistant_says(page, r"Mã theo dõi: PA-\d{4}-\d{6}")
    code = re.search(r"PA-\d{4}-\d{6}", page.locator("#log .msg.assistant").last.inner_text())
    assert code is not None
    card = page.locator("#log .msg.assistant .card").last
    expect(card).to_contain_text(code.group(0))
    expect(card).to_contain_text("Đã chuyển đơn vị xử lý")
    shoot(page, "miniapp-report")

    # My reports: the report with its state.
    page.get_by_role("button", name="Phản ánh của tôi").click()
    listed = page.locator("#report-list .card").first
    expect(listed).to_contain_text(code.group(0))
    expect(listed).to_contain_text("Chiếu sáng công cộng")
    shoot(page, "miniapp-my-reports")
    assert accessibility_violations(page) == []
    page.keyboard.press("Escape")
    expect(page.locator("#reports")).to_be_hidden()

    # Once its deadline has passed, the list says the report is late.
    factory = make_sessionmaker(make_engine(stack["settings"].database_url))
    with factory() as session:
        report = session.scalars(select(Report).where(Report.code == code.group(0))).one()
        report.deadline_at = datetime.now(UTC) - timedelta(hours=1)
        session.commit()
    page.get_by_role("button", name="Phản ánh của tôi").click()
    expect(page.locator("#report-list .card").first).to_contain_text("(đã quá hạn)")
    page.keyboard.press("Escape")

    # A reload finds the conversation still there.
    page.reload()
    expect(page.locator("#log .msg.citizen").first).to_contain_text(
        "đăng ký khai sinh", timeout=REPLY_TIMEOUT
    )
    expect(page.locator("#log")).to_contain_text(code.group(0))
    expect(page.locator("#log .msg.citizen img.photo")).to_have_count(1)

    # Nothing was loaded from anywhere but the service.
    outside = [u for u in requested if not u.startswith((base(stack), "blob:", "data:"))]
    assert outside == []
    # Readable at 360 px: nothing wider than the screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]


def test_a_reused_launch_link_is_refused_with_a_clear_message(stack, browser, host, pages):
    token = launch_token(host, "citizen-replay")
    first, _ = open_page(browser, f"{base(stack)}/app/#launch={token}", pages)
    assistant_says(first, "Xin chào|Chào")
    second, _ = open_page(browser, f"{base(stack)}/app/#launch={token}", pages)
    expect(second.locator("#notice")).to_contain_text(
        "Mã mở trợ lý này đã được dùng", timeout=REPLY_TIMEOUT
    )
    expect(second.get_by_label("Tin nhắn")).to_be_disabled()
