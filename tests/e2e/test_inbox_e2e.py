"""The inbox in a real headless Chromium against pytest-django's live server.

One journey runs against the marketplace simulator over HTTP: reviews arrive by a sync (what
the sync job runs), the drafts come from the "ai" queue and the answer goes out through the
"outbox" queue, each drained by an RQ worker in burst mode, as the worker process would. The
others use factory data on a sandbox account (a sent reply is recorded as a dry run).
Screenshots go to artifacts/e2e/ (git-ignored).
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.sessions.backends.cached_db import SessionStore
from django.contrib.sessions.models import Session
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from rq import SimpleWorker

from agentiq.redis import get_queue
from connectors.sync import sync_account
from inbox.models import Interaction, Membership, Message, SavedView
from tests.factories import (
    make_account,
    make_interaction,
    make_member,
    make_product,
    make_workspace,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
PASSWORD = "correct-horse-battery-staple"
GOOD_DRAFT = "Спасибо за отзыв! Рады, что вам понравилось."
WARN_TEXT = "Мы создали тикет по вашему вопросу, спасибо за отзыв."

pytestmark = pytest.mark.django_db(transaction=True)

# Playwright's sync API keeps an event loop running in this thread; the ORM calls of the test
# itself (arrange/assert) are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def seller(db):
    workspace = make_workspace(name="Ромашка")
    user = make_member(
        workspace=workspace,
        role=Membership.Role.AGENT,
        email="agent@example.com",
        full_name="Антон Агент",
    )
    account = make_account(workspace=workspace, name="WB Ромашка", sandbox_mode=True)
    product = make_product(workspace=workspace, account=account, name="Футболка хлопковая")
    make_product(workspace=workspace, account=account, name="Кружка керамическая")
    items = [
        make_interaction(
            workspace=workspace,
            account=account,
            product=product,
            rating=5,
            customer_name=f"Покупатель {i}",
            text=f"Отличная футболка, номер {i}",
            draft=f"{GOOD_DRAFT} Ждём вас снова, заказ {i}.",
            sentiment="positive",
        )
        for i in range(4)
    ]
    items.append(
        make_interaction(
            workspace=workspace,
            account=account,
            product=product,
            rating=1,
            customer_name="<script>alert('x')</script>",
            text="Брак: шов <b>разошёлся</b>",
            draft=GOOD_DRAFT,
            sentiment="negative",
            priority="high",
        )
    )
    return user, items


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def _log_in(page: Page, live_server, email: str) -> None:
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] [type=submit]").click()


def _work(queue_name: str) -> None:
    """Run what is queued on `queue_name`, as the worker process would."""
    queue = get_queue(queue_name)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_reviews_arrive_from_the_simulator_and_the_answer_reaches_it(
    browser: Browser, live_server, simulator
) -> None:
    workspace = make_workspace(name="Ромашка")
    user = make_member(workspace=workspace, email="agent@example.com", full_name="Антон Агент")
    handle = simulator.create_wb_account(reviews=2, questions=0, chats=0, limits=False)
    account = make_account(
        workspace=workspace,
        name="WB Ромашка",
        credentials={"token": handle.token},
        base_url=simulator.url,
    )
    sync_account(account.pk)
    _work("ai")
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(8000)
    page.goto(f"{live_server.url}/app/inbox/?channel=review")
    _log_in(page, live_server, user.email)
    page.wait_for_url("**/app/inbox/?channel=review")
    listed = Interaction.objects.filter(account=account, channel="review").exclude(status="closed")
    before = listed.count()
    assert before > 0
    expect(page.locator(".interaction-row")).to_have_count(before)

    # New reviews reach the simulator; the next sync brings them in and the open list shows
    # them by itself (it polls every 10 s).
    simulator.generate(handle.account_id, reviews=3)
    sync_account(account.pk)
    _work("ai")
    assert listed.count() == before + 3
    expect(page.locator(".interaction-row")).to_have_count(before + 3, timeout=15000)
    _shot(page, "10-arrived-from-simulator")

    newest = Interaction.objects.filter(account=account).order_by("-last_message_at").first()
    assert newest is not None and newest.draft
    page.locator(f"#interaction-row-{newest.pk} .row-link").click()
    composer = page.locator("#composer-text")
    expect(composer).to_have_value(newest.draft)
    composer.fill(WARN_TEXT)
    expect(page.locator("#guardrail-findings mark")).to_have_text("тикет")
    reply = GOOD_DRAFT + " Ждём вас снова!"
    composer.fill(reply)
    page.locator("#composer-form button[type=submit]:not([formaction])").click()
    expect(page.locator("#delivery-state")).to_be_visible()

    _work("outbox")  # publishes, then reads the answer back from the marketplace
    expect(page.locator("#delivery-state.delivery-confirmed")).to_be_visible(timeout=10000)
    answers = simulator.answers(handle.account_id)
    assert [a["text"] for a in answers] == [reply]
    _shot(page, "11-answer-confirmed")
    context.close()


def test_inbox_end_to_end_on_desktop_and_phone(browser: Browser, live_server, seller) -> None:
    user, items = seller
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(8000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # Log in and see the reviews.
    page.goto(f"{live_server.url}/app/inbox/")
    _log_in(page, live_server, user.email)
    page.wait_for_url("**/app/inbox/")
    expect(page.locator(".interaction-row")).to_have_count(5)
    # Customer text is text, never markup.
    expect(page.get_by_text("<script>alert('x')</script>").first).to_be_visible()
    _shot(page, "01-inbox")

    # Open one review (htmx swaps the detail in and pushes its URL).
    first = items[0]
    page.locator(f"#interaction-row-{first.pk} .row-link").click()
    page.wait_for_url(f"**/app/inbox/{first.pk}/")
    composer = page.locator("#composer-text")
    expect(composer).to_have_value(first.draft)

    # Edit the draft: a guardrail warning appears as you type.
    composer.fill(WARN_TEXT)
    expect(page.locator("#guardrail-findings mark")).to_have_text("тикет")
    _shot(page, "02-guardrail-warning")

    # Publish a clean reply with Ctrl+Enter: the delivery state shows the (sandbox) dry run.
    composer.fill(GOOD_DRAFT + " Хорошего дня!")
    composer.press("Control+Enter")
    expect(page.locator("#delivery-state")).to_be_visible()
    page.wait_for_function("() => document.querySelector('#composer[data-sent=\"true\"]') !== null")
    assert Message.objects.filter(interaction=first, direction="out").count() == 1
    _shot(page, "03-published")

    # The history loads when it is opened.
    page.locator("details.context-card summary", has_text="История").click()
    expect(page.locator("#interaction-timeline li").first).to_be_visible()

    # Keyboard: j moves to the next item.
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("j")
    page.wait_for_url("**/app/inbox/*/")

    # Bulk-approve two more 5★ reviews.
    page.goto(f"{live_server.url}/app/inbox/?rating=5")
    for item in items[1:3]:
        page.locator(f"#interaction-row-{item.pk} .row-check").check()
    page.locator("#bulk-form button[type=submit]").click()
    expect(page.locator("#bulk-result progress")).to_be_visible()
    published = set(
        Message.objects.filter(direction="out").values_list("interaction_id", flat=True)
    )
    assert published == {items[0].pk, items[1].pk, items[2].pk}
    _shot(page, "04-bulk")

    # Save the filtered list as a view, after the saved views have refreshed themselves.
    expect(page.locator('#saved-views [hx-trigger^="load"]')).to_have_count(0)
    page.locator("#saved-views .save-view summary").click()
    page.locator("#saved-view-name").fill("Пятёрки")
    page.locator("#saved-view-form button[type=submit]").click()
    expect(page.locator("#saved-views a", has_text="Пятёрки")).to_be_visible()
    assert SavedView.objects.get(name="Пятёрки").query == "rating=5"

    # Filter by a product found by typing part of its name.
    page.goto(f"{live_server.url}/app/inbox/")
    page.locator(".filter-details summary").click()
    expect(page.locator("#id_product option", has_text="Кружка")).to_have_count(1)
    # htmx binds the swapped-in search box when the swap settles, and drops htmx-added then.
    expect(page.locator("#filter-controls.htmx-added")).to_have_count(0)
    page.locator("#product-search").fill("футб")
    expect(page.locator("#id_product option", has_text="Кружка")).to_have_count(0)
    page.locator("#id_product").select_option(label="Футболка хлопковая")
    page.wait_for_url(f"**/app/inbox/?*product={items[0].product_id}*")
    expect(page.locator(".interaction-row .row-name", has_text="Футболка").first).to_be_visible()
    assert errors == []

    # The same session on a 375 px phone: the list, then one item with a way back.
    phone = browser.new_context(
        viewport={"width": 375, "height": 740},
        is_mobile=True,
        storage_state=context.storage_state(),
    )
    context.close()
    page = phone.new_page()
    page.set_default_timeout(8000)
    page.goto(f"{live_server.url}/app/inbox/")
    expect(page.locator(".inbox-list-pane")).to_be_visible()
    expect(page.locator("#interaction-detail-pane")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(page, "05-mobile-list")

    page.locator(f"#interaction-row-{items[4].pk} .row-link").click()
    expect(page.locator("#composer-text")).to_be_visible()
    expect(page.locator(".inbox-list-pane")).to_be_hidden()
    expect(page.locator(".back-to-list")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(page, "06-mobile-detail")
    phone.close()


def test_inbox_expired_session_keeps_the_typed_reply(browser: Browser, live_server, seller) -> None:
    user, items = seller
    item = items[3]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(8000)
    page.goto(f"{live_server.url}/app/inbox/{item.pk}/")
    _log_in(page, live_server, user.email)
    page.wait_for_url(f"**/app/inbox/{item.pk}/")

    typed = "Ольга, спасибо! Мы проверим партию и напишем вам."
    page.locator("#composer-text").fill(typed)
    # The session expires on the server while the agent types (cache and database alike).
    for key in Session.objects.values_list("session_key", flat=True):
        SessionStore(session_key=key).delete()
    # The 5 s presence poll may notice the expired session first: the same redirect follows.
    with contextlib.suppress(PlaywrightError):
        page.locator("#composer-form button[type=submit]:not([formaction])").click(timeout=3000)

    page.wait_for_url("**/accounts/login/**")
    _log_in(page, live_server, user.email)
    page.wait_for_url(f"**/app/inbox/{item.pk}/")
    expect(page.locator("#composer-text")).to_have_value(typed)
    assert not Message.objects.filter(interaction=item, direction="out").exists()
    assert Interaction.objects.get(pk=item.pk).draft != typed
    _shot(page, "07-session-restored")
    context.close()
