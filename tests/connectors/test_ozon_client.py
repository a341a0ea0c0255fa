"""OzonClient against the marketplace simulator over real HTTP, with real Redis budgets."""

import json
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from connectors.exceptions import AuthError, PublishRejected, RateLimited, SubscriptionRequired
from connectors.ozon.client import OzonClient
from connectors.registry import client_for
from connectors.sync import sync_account
from connectors.types import Page
from inbox.models import Interaction, MarketplaceAccount, Message, Workspace
from inbox.services.replies import queue_reply, recover_stuck_messages
from tests.conftest import SimulatorFixture
from tests.factories import make_account

REPLY = "Спасибо за отзыв! Рады, что покупка понравилась."


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Assert on the English msgids: translations are the lead's, and may change."""
    with translation.override("en"):
        yield


def _connect(
    simulator: SimulatorFixture, workspace: Workspace, **options: Any
) -> tuple[MarketplaceAccount, str]:
    options = {"seed": 3, "limits": False, "moderation_seconds": 0, **options}
    handle = simulator.create_ozon_account(**options)
    account = make_account(
        workspace=workspace,
        marketplace="ozon",
        base_url=simulator.url,
        credentials={"client_id": handle.client_id, "api_key": handle.api_key},
    )
    return account, handle.account_id


def _run(
    client: OzonClient, channel: str, state: Mapping[str, Any] | None = None, *, max_pages: int = 50
) -> tuple[list[Page], dict[str, Any]]:
    """Fetch pages until `done`, committing (JSON round-trip) the state after each one."""
    pages: list[Page] = []
    current: dict[str, Any] = dict(state or {})
    for _ in range(max_pages):
        page = client.fetch_page(channel, current)
        pages.append(page)
        current = json.loads(json.dumps(page.next_state))
        if page.done:
            return pages, current
    raise AssertionError("the channel never finished")


def _ids(pages: list[Page]) -> list[str]:
    return [item.external_id for page in pages for item in page.items]


# --------------------------------------------------------------------------- reviews
def test_fetch_reviews_pages_cover_every_review_once(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, reviews=230)

    pages, state = _run(OzonClient(account), "review")

    # Ozon's pages of 100 are gathered into one page for the ingest.
    assert [len(page.items) for page in pages] == [230]
    assert sorted(_ids(pages)) == sorted(simulator.truth(sim_id)["reviews"]["ids"])
    assert (state["api"], state["total"]) == ("v2", 230)
    requests = simulator.account_stats(sim_id)["requests_by_path"]
    assert requests["api-seller.ozon.ru/v2/review/list"] == 3


def test_a_gathered_page_keeps_what_arrived_when_the_rate_budget_runs_out(simulator, workspace):
    account, sim_id = _connect(
        simulator, workspace, reviews=230, limits=True, requests_per_second=1
    )

    # The second list request of the same second gets a 429; no time to wait for it.
    page = OzonClient(account, max_wait=0).fetch_page("review", {})

    assert len(page.items) == 100
    assert page.done is False
    rest, _state = _run(OzonClient(account), "review", json.loads(json.dumps(page.next_state)))
    ids = [item.external_id for item in page.items] + _ids(rest)
    assert sorted(ids) == sorted(simulator.truth(sim_id)["reviews"]["ids"])


def test_fetch_reviews_resumes_after_a_crash_after_page_k_with_nothing_lost(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, reviews=250)
    first = OzonClient(account, gather_items=100).fetch_page("review", {})
    committed = json.loads(json.dumps(first.next_state))

    # A new worker (new client) picks the committed state up.
    rest, _state = _run(OzonClient(account, gather_items=100), "review", committed)

    ids = [item.external_id for item in first.items] + _ids(rest)
    assert len(ids) == len(set(ids)) == 250
    assert set(ids) == set(simulator.truth(sim_id)["reviews"]["ids"])


def test_fetch_reviews_next_run_returns_only_new_reviews(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, reviews=30)
    client = OzonClient(account)
    _pages, state = _run(client, "review")
    new_ids = simulator.generate(sim_id, reviews=2)["reviews"]

    assert client.has_news("review", state) is True
    pages, state = _run(client, "review", state)

    assert _ids(pages) == new_ids
    assert client.has_news("review", state) is False


def test_fetch_reviews_maps_fields(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, reviews=20, answered_share=0.5)

    pages, _state = _run(OzonClient(account), "review")

    truth = simulator.truth(sim_id)["reviews"]
    items = {item.external_id: item for page in pages for item in page.items}
    answered = {rid for rid, item in items.items() if item.is_answered}
    assert answered == set(truth["answered_ids"])
    some = items[truth["ids"][0]]
    assert some.product_external_id == str(truth["skus"][some.external_id])
    assert some.rating in {1, 2, 3, 4, 5}
    assert some.occurred_at.tzinfo is not None


def test_fetch_reviews_falls_back_to_v1_for_a_premium_plus_seller(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, reviews=25, subscription="premium_plus")

    pages, state = _run(OzonClient(account), "review")

    assert sorted(_ids(pages)) == sorted(simulator.truth(sim_id)["reviews"]["ids"])
    assert state["api"] == "v1"
    assert (
        simulator.account_stats(sim_id)["requests_by_path"]["api-seller.ozon.ru/v2/review/list"]
        == 1
    )


def test_fetch_reviews_without_subscription_raises_subscription_required(simulator, workspace):
    account, _sim_id = _connect(simulator, workspace, subscription="none")

    with pytest.raises(SubscriptionRequired) as raised:
        OzonClient(account).fetch_page("review", {})

    assert str(raised.value) == (
        "Reviews are unavailable: Ozon needs the «Review management» or Premium Pro "
        "subscription for them."
    )


def test_fetch_questions_without_premium_plus_raises_while_chats_still_sync(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, subscription="reviews_management", chats=3)
    client = OzonClient(account)

    with pytest.raises(SubscriptionRequired) as raised:
        client.fetch_page("question", {})
    pages, _state = _run(client, "chat")

    assert str(raised.value) == (
        "Questions are unavailable: Ozon needs the Premium Plus subscription for them."
    )
    assert sorted(_ids(pages)) == sorted(simulator.truth(sim_id)["chats"]["ids"])


def test_fetch_page_with_a_malformed_item_keeps_the_rest(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, reviews=30)
    simulator.add_fault(sim_id, "malformed", path_contains="/v2/review/list")

    pages, _state = _run(OzonClient(account), "review")

    malformed = [bad for page in pages for bad in page.malformed]
    assert len(malformed) == 1
    assert malformed[0].channel == "review"
    assert len(_ids(pages)) == 29


# --------------------------------------------------------------------------- questions
def test_fetch_questions_follows_last_id_through_pages_of_ten(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, questions=25)

    pages, state = _run(OzonClient(account, gather_items=10), "question")

    assert [len(page.items) for page in pages] == [10, 10, 5]
    assert sorted(_ids(pages)) == sorted(simulator.truth(sim_id)["questions"]["ids"])
    assert state["total"] == 25


# --------------------------------------------------------------------------- chats
def test_fetch_chats_reads_buyer_chats_with_messages_and_reply_window(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, chats=4)
    fresh = simulator.generate(sim_id, chats=1)["chats"][0]

    pages, state = _run(OzonClient(account), "chat")

    truth = simulator.truth(sim_id)["chats"]
    items = {item.external_id: item for page in pages for item in page.items}
    assert sorted(items) == sorted(truth["ids"])  # the support chat is left out
    assert sum(len(item.messages) for item in items.values()) == truth["messages"]
    new_chat = items[fresh]
    assert new_chat.messages[-1].direction == "in"
    assert new_chat.reply_window_ends_at == new_chat.messages[-1].occurred_at + timedelta(hours=48)
    assert new_chat.order_id and new_chat.product_external_id.isdigit()
    assert int(state["watermark"]) == max(int(m) for m in truth["message_ids"])


def test_fetch_chats_next_run_returns_only_chats_with_new_messages(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, chats=5)
    client = OzonClient(account)
    _pages, state = _run(client, "chat")
    assert client.has_news("chat", state) is False
    new_message = simulator.generate(sim_id, chat_messages=1)["chat_messages"][0]

    pages, _state = _run(client, "chat", state)

    items = [item for page in pages for item in page.items]
    assert len(items) == 1
    assert new_message in [m.external_id for m in items[0].messages]


def test_fetch_chats_resumes_after_a_crash_after_page_k(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, chats=150)
    first = OzonClient(account, gather_items=50).fetch_page("chat", {})
    committed = json.loads(json.dumps(first.next_state))

    rest, _state = _run(OzonClient(account, gather_items=50), "chat", committed)

    ids = [item.external_id for item in first.items] + _ids(rest)
    assert first.done is False
    assert len(ids) == len(set(ids)) == 150
    assert set(ids) == set(simulator.truth(sim_id)["chats"]["ids"])


def test_fetch_chats_gathers_list_pages_of_a_hundred_into_one_page(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, chats=250)

    page = OzonClient(account).fetch_page("chat", {})

    assert page.done is True
    assert len({item.external_id for item in page.items}) == 250
    assert (
        simulator.account_stats(sim_id)["requests_by_path"]["api-seller.ozon.ru/v3/chat/list"] == 3
    )


# --------------------------------------------------------------------------- failures
def test_fetch_page_waits_out_a_single_429(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, reviews=20)
    simulator.add_fault(sim_id, "429", path_contains="/v2/review/list")

    pages, _state = _run(OzonClient(account), "review")

    assert len(_ids(pages)) == 20
    assert simulator.account_stats(sim_id)["responses_429"] == 1


def test_fetch_page_in_a_429_storm_raises_rate_limited(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, reviews=20)
    simulator.add_fault(sim_id, "429", count=5, path_contains="/v2/review/list")

    with pytest.raises(RateLimited):
        OzonClient(account).fetch_page("review", {})


def test_fetch_page_with_a_wrong_key_raises_auth_error(simulator, workspace):
    account, _sim_id = _connect(simulator, workspace)
    account.credentials = {**account.credentials, "api_key": "wrong"}

    with pytest.raises(AuthError):
        OzonClient(account).fetch_page("review", {})


def test_fetch_page_with_a_revoked_key_raises_auth_error_not_subscription(simulator, workspace):
    account, sim_id = _connect(simulator, workspace)
    simulator.add_fault(sim_id, "revoked")

    with pytest.raises(AuthError):
        OzonClient(account).fetch_page("question", {})


# --------------------------------------------------------------------------- connection check
def test_check_connection_reports_channels_and_key_expiry(simulator, workspace):
    account, _sim_id = _connect(simulator, workspace, subscription="reviews_management")

    report = OzonClient(account).check_connection()

    assert report.ok is True
    assert report.expires_at is not None
    assert report.expires_at - timezone.now() > timedelta(days=140)
    assert {c.channel: c.available for c in report.channels} == {
        "review": True,
        "question": False,
        "chat": True,
        "product": True,
    }


def test_check_connection_warns_about_a_key_expiring_soon(simulator, workspace):
    account, _sim_id = _connect(simulator, workspace, key_valid_days=3)

    report = OzonClient(account).check_connection()

    assert report.ok is True
    assert report.warnings[0].startswith("The Ozon API key expires in 2 days")


def test_check_connection_with_an_expired_key_fails(simulator, workspace):
    account, sim_id = _connect(simulator, workspace)
    simulator.configure_ozon(sim_id, key_expires_in_days=-1)

    report = OzonClient(account).check_connection()

    assert report.ok is False
    assert report.error.startswith("Ozon rejected the Client-Id and API key")


# --------------------------------------------------------------------------- publishing
def test_publish_review_comment_and_read_it_back(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, reviews=10, answered_share=0)
    review_id = simulator.truth(sim_id)["reviews"]["ids"][0]
    client = OzonClient(account)

    result = client.publish("review", review_id, REPLY, idempotency_key="k1")
    state = client.read_answer("review", review_id)

    assert result.external_id
    assert (state.exists, state.text, state.moderation_state) == (True, REPLY, "published")
    assert simulator.account_stats(sim_id)["answers_received"] == {review_id: 1}


def test_publish_review_edit_deletes_and_recreates_the_comment(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, reviews=10, answered_share=0)
    review_id = simulator.truth(sim_id)["reviews"]["ids"][0]
    client = OzonClient(account)
    first = client.publish("review", review_id, REPLY, idempotency_key="k1")

    second = client.publish(
        "review", review_id, "Спасибо! Ждём вас снова.", idempotency_key="k2", is_edit=True
    )

    kinds = [(a["kind"], a["text"]) for a in simulator.answers(sim_id)]
    assert kinds == [("create", REPLY), ("delete", REPLY), ("create", "Спасибо! Ждём вас снова.")]
    assert second.external_id != first.external_id
    assert client.read_answer("review", review_id).text == "Спасибо! Ждём вас снова."
    assert simulator.account_stats(sim_id)["duplicate_answers"] == 0


def test_publish_question_answer_edit_and_read_back(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, questions=5, answered_share=0)
    question_id = simulator.truth(sim_id)["questions"]["ids"][0]
    client = OzonClient(account)

    client.publish("question", question_id, "Да, подойдёт.", idempotency_key="k1")
    client.publish(
        "question", question_id, "Да, подойдёт на рост 182 см.", idempotency_key="k2", is_edit=True
    )
    state = client.read_answer("question", question_id)

    assert (state.exists, state.text) == (True, "Да, подойдёт на рост 182 см.")
    assert [a["kind"] for a in simulator.answers(sim_id)] == ["create", "delete", "create"]


def test_publish_question_too_short_is_rejected_before_sending(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, questions=2)
    question_id = simulator.truth(sim_id)["questions"]["ids"][0]

    with pytest.raises(PublishRejected):
        OzonClient(account).publish("question", question_id, "Д", idempotency_key="k")

    assert simulator.answers(sim_id) == []


def test_publish_chat_message_returns_its_message_id(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, chats=1)
    chat_id = simulator.generate(sim_id, chats=1)["chats"][0]
    client = OzonClient(account)

    result = client.publish("chat", chat_id, "Здравствуйте! Уже разбираемся.", idempotency_key="k")

    assert result.external_id in simulator.truth(sim_id)["chats"]["message_ids"]
    assert client.read_answer("chat", chat_id).text == "Здравствуйте! Уже разбираемся."


def test_publish_chat_outside_the_reply_window_is_rejected(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, chats=6)
    truth = simulator.truth(sim_id)["chats"]
    closed = next(c for c in truth["ids"] if c not in truth["open_for_reply_ids"])

    with pytest.raises(PublishRejected) as raised:
        OzonClient(account).publish("chat", closed, "Добрый день!", idempotency_key="k")

    assert "48 hours" in str(raised.value)


def test_publish_chat_without_premium_raises_subscription_required(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, chats=1, subscription="reviews_management")
    chat_id = simulator.generate(sim_id, chats=1)["chats"][0]

    with pytest.raises(SubscriptionRequired):
        OzonClient(account).publish("chat", chat_id, "Здравствуйте!", idempotency_key="k")


# --------------------------------------------------------------------------- the pipeline
def test_client_for_an_ozon_account_is_the_ozon_client(simulator, workspace):
    account, _sim_id = _connect(simulator, workspace)

    assert isinstance(client_for(account), OzonClient)


def test_sync_account_ingests_an_ozon_account_and_matches_ground_truth(simulator, workspace):
    account, sim_id = _connect(simulator, workspace, reviews=120, questions=23, chats=7)

    first = sync_account(account.pk)
    second = sync_account(account.pk)

    truth = simulator.truth(sim_id)
    counts = {
        channel: Interaction.objects.filter(account=account, channel=channel).count()
        for channel in ("review", "question", "chat")
    }
    assert (first.status, second.status) == ("ok", "ok")
    assert counts == {
        "review": truth["reviews"]["total"],
        "question": truth["questions"]["total"],
        "chat": truth["chats"]["total"],
    }
    assert (
        Message.objects.filter(interaction__account=account, interaction__channel="chat").count()
        == truth["chats"]["messages"]
    )
    assert second.created == 0


def test_sync_account_records_missing_subscription_per_channel_and_syncs_the_rest(
    simulator, workspace
):
    account, _sim_id = _connect(
        simulator, workspace, reviews=10, questions=5, chats=3, subscription="none"
    )

    report = sync_account(account.pk)

    account.refresh_from_db()
    assert report.status == "ok"
    assert set(account.channel_errors) == {"review", "question"}
    assert Interaction.objects.filter(account=account, channel="chat").count() == 3
    assert Interaction.objects.filter(account=account, channel="review").count() == 0


def test_publish_after_a_crash_between_send_and_commit_does_not_resend(simulator, workspace, owner):
    account, sim_id = _connect(simulator, workspace, reviews=6, answered_share=0)
    sync_account(account.pk)
    interaction = (
        Interaction.objects.filter(account=account, channel="review").order_by("id").first()
    )
    message = queue_reply(interaction, text=REPLY, actor=owner)
    # The previous worker sent the comment and died before recording it.
    Message.objects.filter(pk=message.pk).update(delivery_status="sending", attempts=1)
    client_for(account).publish(
        "review", interaction.external_id, REPLY, idempotency_key=message.idempotency_key
    )
    Message.objects.filter(pk=message.pk).update(
        delivery_status="sending", updated_at=timezone.now() - timedelta(hours=1)
    )

    recovered = recover_stuck_messages()

    message.refresh_from_db()
    assert recovered == 1
    assert message.delivery_status == Message.DeliveryStatus.CONFIRMED
    assert simulator.account_stats(sim_id)["answers_received"] == {interaction.external_id: 1}
    assert simulator.account_stats(sim_id)["duplicate_answers"] == 0
