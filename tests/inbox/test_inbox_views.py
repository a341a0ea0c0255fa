import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rq import SimpleWorker

from agentiq.redis import get_queue
from inbox.models import (
    Interaction,
    InteractionEvent,
    Membership,
    Message,
    Product,
    ReplyTemplate,
    SavedView,
)
from inbox.services import bulk
from inbox.services.presence import touch_presence
from tests.factories import make_account, make_interaction, make_message, make_product

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
GOOD_DRAFT = "Спасибо за отзыв! Рады, что вам понравилось."
WARN_TEXT = "Мы создали тикет по вашему вопросу, спасибо за отзыв."


def _body(response) -> str:
    return response.content.decode()


# --- list ---------------------------------------------------------------------------------------


def test_inbox_page_renders_the_list_in_the_full_page(agent_client, workspace):
    item = make_interaction(workspace=workspace, customer_name="Мария")

    response = agent_client.get(reverse("inbox:inbox"))

    body = _body(response)
    assert response.status_code == 200
    assert "<html" in body
    assert f'id="interaction-row-{item.pk}"' in body
    assert "Мария" in body


def test_inbox_row_says_answered_once_the_answer_is_on_the_marketplace(agent_client, workspace):
    answered = make_interaction(workspace=workspace, customer_name="Ольга", is_answered=True)
    waiting = make_interaction(workspace=workspace, customer_name="Пётр")

    body = _body(agent_client.get(reverse("inbox:inbox"), **HX))

    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(r'id="interaction-row-(\d+)".*?</li>', body, flags=re.S)
    }
    assert "Отвечено" in rows[str(answered.pk)]
    assert "Отвечено" not in rows[str(waiting.pk)]


def test_inbox_htmx_request_gets_the_list_partial_only(agent_client, workspace):
    item = make_interaction(workspace=workspace)

    response = agent_client.get(reverse("inbox:inbox"), **HX)

    body = _body(response)
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="interaction-list"')
    assert f'id="interaction-row-{item.pk}"' in body
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_inbox_anonymous_is_redirected_to_login(client):
    response = client.get(reverse("inbox:inbox"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_inbox_anonymous_htmx_gets_a_client_redirect(client):
    response = client.get(reverse("inbox:inbox"), **HX)

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("login"))


@pytest.mark.parametrize("rows", [1, 3])
def test_inbox_page_query_count_is_constant(
    agent_client, workspace, agent, rows, django_assert_num_queries
):
    account = make_account(workspace=workspace)
    product = make_product(workspace=workspace, account=account)
    for _ in range(rows):
        make_interaction(workspace=workspace, account=account, product=product, assignee=agent)
    SavedView.objects.create(workspace=workspace, owner=agent, name="Пятёрки", query="rating=5")

    agent_client.get(reverse("inbox:inbox"))  # the first visit stores the workspace in the session

    # the user with their memberships (also the header's); rows, fingerprint. The session,
    # the saved views (their counts come with the next request) and the filter choices come
    # from the cache since the first visit, and the session is not rewritten.
    with django_assert_num_queries(3):
        response = agent_client.get(reverse("inbox:inbox"))

    assert len(re.findall(r'id="interaction-row-\d+"', _body(response))) == rows


def test_inbox_filters_by_query_string(agent_client, workspace):
    low = make_interaction(workspace=workspace, rating=1, text="Плохо")
    high = make_interaction(workspace=workspace, rating=5, text="Хорошо")

    body = _body(agent_client.get(reverse("inbox:inbox") + "?rating=1", **HX))

    assert f"interaction-row-{low.pk}" in body
    assert f"interaction-row-{high.pk}" not in body


def test_inbox_search_finds_russian_word_forms(agent_client, workspace):
    found = make_interaction(workspace=workspace, text="Пришла бракованная куртка")
    other = make_interaction(workspace=workspace, text="Всё отлично")

    body = _body(agent_client.get(reverse("inbox:inbox") + "?q=куртки", **HX))

    assert f"interaction-row-{found.pk}" in body
    assert f"interaction-row-{other.pk}" not in body


def test_inbox_load_more_returns_the_next_rows_without_counting_the_list_again(
    agent_client, workspace, django_assert_num_queries
):
    from inbox.selectors import INBOX_PAGE_SIZE

    items = [make_interaction(workspace=workspace) for _ in range(INBOX_PAGE_SIZE + 2)]
    first = _body(agent_client.get(reverse("inbox:inbox"), **HX))
    cursor = re.search(r'cursor=([^"&]+)"', first).group(1)

    with django_assert_num_queries(2):  # the user with their memberships, the rows
        more = _body(
            agent_client.get(
                reverse("inbox:inbox") + f"?cursor={cursor}",
                HTTP_HX_TARGET="interaction-list-more",
                **HX,
            )
        )

    shown = set(map(int, re.findall(r'id="interaction-row-(\d+)"', first + more)))
    assert shown == {i.pk for i in items}
    assert not more.lstrip().startswith('<div id="interaction-list"')


def test_inbox_poll_with_unchanged_fingerprint_is_204(agent_client, workspace):
    make_interaction(workspace=workspace)
    first = _body(agent_client.get(reverse("inbox:inbox"), **HX))
    fingerprint = re.search(r"fingerprint=([^\"&]+)", first).group(1)

    response = agent_client.get(reverse("inbox:inbox") + f"?fingerprint={fingerprint}", **HX)

    assert response.status_code == 204
    assert response.content == b""


def test_inbox_poll_after_a_change_returns_the_list(agent_client, workspace):
    item = make_interaction(workspace=workspace)
    first = _body(agent_client.get(reverse("inbox:inbox"), **HX))
    fingerprint = re.search(r"fingerprint=([^\"&]+)", first).group(1)
    make_interaction(workspace=workspace)

    response = agent_client.get(reverse("inbox:inbox") + f"?fingerprint={fingerprint}", **HX)

    assert response.status_code == 200
    assert f"interaction-row-{item.pk}" in _body(response)


def test_inbox_etag_gives_304_when_nothing_changed(agent_client, workspace):
    make_interaction(workspace=workspace)
    etag = agent_client.get(reverse("inbox:inbox"), **HX)["ETag"]

    response = agent_client.get(reverse("inbox:inbox"), HTTP_IF_NONE_MATCH=etag, **HX)

    assert response.status_code == 304


# --- escaping -----------------------------------------------------------------------------------


def test_customer_text_is_escaped_in_list_and_conversation(agent_client, workspace):
    item = make_interaction(
        workspace=workspace,
        text="<script>alert(1)</script>",
        customer_name="<b>Хакер</b>",
        channel="chat",
    )
    make_message(interaction=item, text="<img src=x onerror=alert(2)>")

    page = _body(agent_client.get(reverse("inbox:interaction-detail", args=[item.pk])))

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<b>Хакер</b>" not in page


# --- conversation -------------------------------------------------------------------------------


def test_interaction_detail_full_page_has_list_and_composer_with_draft(agent_client, workspace):
    item = make_interaction(workspace=workspace, draft=GOOD_DRAFT, text="Хорошая вещь")

    response = agent_client.get(reverse("inbox:interaction-detail", args=[item.pk]))

    body = _body(response)
    assert "<html" in body
    assert f'id="interaction-row-{item.pk}"' in body
    assert 'id="composer-text"' in body
    assert GOOD_DRAFT in body


def test_interaction_detail_htmx_gets_the_detail_partial(agent_client, workspace):
    item = make_interaction(workspace=workspace, text="Хорошая вещь")

    body = _body(agent_client.get(reverse("inbox:interaction-detail", args=[item.pk]), **HX))

    assert "<html" not in body
    assert body.lstrip().startswith(
        f'<div id="interaction-detail" class="interaction-detail" data-pk="{item.pk}"'
    )
    assert "<h3>Анализ ИИ</h3>" in body


@pytest.mark.parametrize("messages", [1, 3])
def test_interaction_detail_query_count_is_constant(
    agent_client, workspace, messages, django_assert_num_queries
):
    item = make_interaction(workspace=workspace, channel="chat", draft=GOOD_DRAFT)
    for _ in range(messages):
        make_message(interaction=item)

    agent_client.get(reverse("inbox:inbox"))  # the first visit stores the workspace in the session

    # the user with their memberships; interaction, messages (our latest reply among them),
    # templates, links, members (then cached for a while); the history loads when opened; a
    # chat has no repetition check (a review would add one query for recent answers)
    with django_assert_num_queries(6):
        agent_client.get(reverse("inbox:interaction-detail", args=[item.pk]), **HX)


def test_inbox_filters_keep_the_chosen_options_and_escape_product_names(agent_client, workspace):
    account = make_account(workspace=workspace)
    product = make_product(workspace=workspace, account=account, name='Кружка <b>"Утро"</b>')
    make_interaction(workspace=workspace, account=account, product=product, rating=2)

    body = _body(
        agent_client.get(reverse("inbox:inbox"), {"rating": "2", "product": str(product.pk)})
    )

    assert '<option value="2" selected>★★</option>' in body
    assert (
        f'<option value="{product.pk}" selected>Кружка &lt;b&gt;&quot;Утро&quot;&lt;/b&gt;' in body
    )
    assert "<b>" not in body.split('name="product"')[1].split("</select>")[0]


def test_inbox_product_search_reaches_any_product_and_keeps_the_chosen_one(agent_client, workspace):
    from inbox.selectors import PRODUCT_CHOICES_LIMIT

    account = make_account(workspace=workspace)
    chosen = make_product(workspace=workspace, account=account, name="Кружка синяя")
    old = make_product(workspace=workspace, account=account, name="Чайник <b>стальной</b>")
    Product.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=400))
    for n in range(PRODUCT_CHOICES_LIMIT):  # newer products push the kettle off the list
        make_product(workspace=workspace, account=account, name=f"Футболка {n}", article="A1")
    offered = _body(agent_client.get(reverse("inbox:inbox"), {"product": str(chosen.pk)}))
    options = reverse("inbox:inbox-product-options")

    found = _body(agent_client.get(options, {"product_q": "ЧАЙНИК", "product": chosen.pk}, **HX))
    by_article = _body(agent_client.get(options, {"product_q": "a1"}, **HX))

    assert "Чайник" not in offered and 'id="product-search"' in offered
    assert f'<option value="{old.pk}">Чайник &lt;b&gt;стальной&lt;/b&gt;</option>' in found
    assert f'<option value="{chosen.pk}" selected>Кружка синяя</option>' in found
    assert found.count("<option") == 3  # "all products", the match, the chosen one
    assert by_article.count("<option") == 1 + 50  # capped at PRODUCT_SEARCH_LIMIT


def test_inbox_loads_account_and_product_filters_when_the_filters_are_opened(
    agent_client, workspace
):
    account = make_account(workspace=workspace, name="Ромашка")
    make_product(workspace=workspace, account=account, name="Кружка")

    page = _body(agent_client.get(reverse("inbox:inbox")))
    controls = _body(
        agent_client.get(reverse("inbox:inbox"), HTTP_HX_TARGET="filter-controls", **HX)
    )

    assert 'hx-trigger="toggle once from:closest details"' in page
    assert "Кружка" not in page and "Ромашка</option>" not in page
    assert controls.lstrip().startswith('<div id="filter-controls"')
    # Accounts are told apart by their marketplace: sellers often name both stores alike.
    assert ">Кружка</option>" in controls and ">Wildberries: Ромашка</option>" in controls
    assert "toggle once" not in controls


def test_interaction_detail_shows_the_answer_state(agent_client, workspace):
    from datetime import timedelta

    from django.utils import timezone

    item = make_interaction(
        workspace=workspace,
        is_answered=True,
        answer_edits_left=1,
        answer_editable_until=timezone.now() + timedelta(days=2),
    )
    make_message(
        interaction=item,
        direction="out",
        author_type="seller",
        text="Наш ответ",
        delivery_status="confirmed",
    )

    body = _body(agent_client.get(reverse("inbox:interaction-detail", args=[item.pk]), **HX))

    assert "Наш ответ" in body
    assert 'name="is_edit" value="on"' in body


def test_interaction_detail_says_an_ozon_answer_can_be_replaced(agent_client, workspace):
    ozon = make_account(workspace=workspace, marketplace="ozon")
    item = make_interaction(
        workspace=workspace, account=ozon, is_answered=True, answer_edits_left=1
    )

    body = _body(agent_client.get(reverse("inbox:interaction-detail", args=[item.pk]), **HX))

    assert "можно заменить" in body
    assert 'name="is_edit" value="on"' in body


def test_interaction_detail_counts_the_edits_left_of_an_answer_without_a_deadline(
    agent_client, workspace
):
    # A WB answer read by the sync: WB says it is editable, the 60 days start unknown.
    item = make_interaction(workspace=workspace, is_answered=True, answer_edits_left=1)

    body = _body(agent_client.get(reverse("inbox:interaction-detail", args=[item.pk]), **HX))

    assert "осталась 1 правка" in body
    assert "можно заменить" not in body


def test_interaction_detail_says_a_spent_answer_can_no_longer_be_edited(agent_client, workspace):
    item = make_interaction(workspace=workspace, is_answered=True, answer_edits_left=0)

    body = _body(agent_client.get(reverse("inbox:interaction-detail", args=[item.pk]), **HX))

    assert 'name="is_edit" value="on"' not in body
    assert "изменить больше нельзя" in body


def test_interaction_check_returns_guardrail_findings_partial(agent_client, workspace):
    item = make_interaction(workspace=workspace)

    response = agent_client.post(
        reverse("inbox:interaction-check", args=[item.pk]), {"text": WARN_TEXT}, **HX
    )

    body = _body(response)
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="guardrail-findings"')
    assert "<mark>тикет</mark>" in body


def test_interaction_check_without_htmx_renders_the_page(agent_client, workspace):
    item = make_interaction(workspace=workspace)

    response = agent_client.post(
        reverse("inbox:interaction-check", args=[item.pk]), {"text": WARN_TEXT}
    )

    body = _body(response)
    assert "<html" in body
    assert "<mark>тикет</mark>" in body
    assert WARN_TEXT in body


def test_interaction_reply_queues_a_message_and_shows_delivery(agent_client, workspace, agent):
    item = make_interaction(workspace=workspace)

    response = agent_client.post(
        reverse("inbox:interaction-reply", args=[item.pk]), {"text": GOOD_DRAFT}, **HX
    )

    body = _body(response)
    message = Message.objects.get(interaction=item, direction="out")
    assert (message.text, message.author, message.delivery_status) == (GOOD_DRAFT, agent, "queued")
    assert 'id="delivery-state"' in body
    assert 'data-sent="true"' in body
    assert "interaction-changed" in response["HX-Trigger"]


def test_interaction_reply_a_second_time_is_refused_with_a_message(
    agent_client, client, workspace, owner
):
    item = make_interaction(workspace=workspace)
    client.force_login(owner, backend="inbox.tenancy.MemberBackend")
    client.post(reverse("inbox:interaction-reply", args=[item.pk]), {"text": GOOD_DRAFT}, **HX)

    response = agent_client.post(
        reverse("inbox:interaction-reply", args=[item.pk]), {"text": GOOD_DRAFT + " Ещё раз."}, **HX
    )

    body = _body(response)
    assert Message.objects.filter(interaction=item, direction="out").count() == 1
    assert 'role="alert"' in body
    assert "Ещё раз." in body  # the typed text is kept


def _composer_text(body: str) -> str:
    match = re.search(r'<textarea id="composer-text"[^>]*>(.*?)</textarea>', body, re.S)
    assert match, body
    return match.group(1)


def test_a_chat_message_sent_twice_in_a_row_reaches_the_buyer_once(agent_client, workspace):
    chat = make_interaction(workspace=workspace, channel="chat", rating=None)
    url = reverse("inbox:interaction-reply", args=[chat.pk])

    agent_client.post(url, {"text": GOOD_DRAFT}, **HX)
    again = agent_client.post(url, {"text": GOOD_DRAFT}, **HX)
    other = agent_client.post(url, {"text": "Заказ уже в пути."}, **HX)

    texts = list(
        Message.objects.filter(interaction=chat, direction="out").values_list("text", flat=True)
    )
    assert texts == [GOOD_DRAFT, "Заказ уже в пути."]
    assert 'role="alert"' in _body(again) and "не отправляется дважды" in _body(again)
    assert 'data-sent="true"' in _body(other)


def test_after_a_chat_reply_the_composer_is_empty_not_the_old_draft(agent_client, workspace):
    draft = "Здравствуйте! Пришлите, пожалуйста, фото."
    chat = make_interaction(
        workspace=workspace,
        channel="chat",
        rating=None,
        draft=draft,
        analyzed_at=timezone.now() - timedelta(minutes=5),
    )
    detail = reverse("inbox:interaction-detail", args=[chat.pk])
    assert _composer_text(_body(agent_client.get(detail, **HX))) == draft

    sent = agent_client.post(
        reverse("inbox:interaction-reply", args=[chat.pk]), {"text": draft}, **HX
    )

    assert _composer_text(_body(sent)) == ""
    assert _composer_text(_body(agent_client.get(detail, **HX))) == ""
    Message.objects.filter(interaction=chat, direction="out").update(delivery_status="failed")
    assert _composer_text(_body(agent_client.get(detail, **HX))) == draft  # to send again


def test_interaction_reply_without_htmx_redirects_with_a_notice(agent_client, workspace):
    item = make_interaction(workspace=workspace)

    response = agent_client.post(
        reverse("inbox:interaction-reply", args=[item.pk]), {"text": GOOD_DRAFT}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:interaction-detail", args=[item.pk])


def test_interaction_delivery_polls_until_final_then_refreshes_the_whole_pane(
    agent_client, workspace
):
    item = make_interaction(workspace=workspace)
    queued = make_message(
        interaction=item, direction="out", author_type="seller", delivery_status="queued"
    )
    done = make_message(
        interaction=item, direction="out", author_type="seller", delivery_status="confirmed"
    )
    url = "inbox:interaction-delivery"

    polling = agent_client.get(reverse(url, args=[item.pk, queued.pk]), **HX)
    final = agent_client.get(reverse(url, args=[item.pk, done.pk]), **HX)

    assert 'hx-trigger="every 2s"' in _body(polling)
    assert _body(polling).lstrip().startswith('<p id="delivery-state"')
    assert final["HX-Retarget"] == "#interaction-detail"
    assert _body(final).lstrip().startswith('<div id="interaction-detail"')
    assert 'class="delivery delivery-confirmed"' in _body(final)
    assert "<html" not in _body(final)


def test_interaction_status_closes_via_the_service(agent_client, workspace, agent):
    item = make_interaction(workspace=workspace, status="open")

    response = agent_client.post(
        reverse("inbox:interaction-status", args=[item.pk]), {"status": "closed"}, **HX
    )

    item.refresh_from_db()
    assert item.status == "closed"
    assert _body(response).lstrip().startswith('<div id="interaction-detail"')
    assert list(InteractionEvent.objects.filter(interaction=item).values_list("kind", "actor")) == [
        ("status_changed", agent.pk)
    ]


def test_interaction_status_snooze_without_duration_is_refused(agent_client, workspace):
    item = make_interaction(workspace=workspace, status="open")

    agent_client.post(reverse("inbox:interaction-status", args=[item.pk]), {"status": "snoozed"})

    item.refresh_from_db()
    assert item.status == "open"


def test_interaction_assign_to_a_member(agent_client, workspace, owner):
    item = make_interaction(workspace=workspace)

    response = agent_client.post(
        reverse("inbox:interaction-assign", args=[item.pk]), {"assignee": owner.pk}
    )

    item.refresh_from_db()
    assert item.assignee == owner
    assert response.status_code == 302


def test_interaction_assignee_picker_follows_the_team_at_once(
    admin_client_member, workspace, django_capture_on_commit_callbacks
):
    item = make_interaction(workspace=workspace)
    pane = reverse("inbox:interaction-detail", args=[item.pk])
    assert "Новая Коллега" not in _body(admin_client_member.get(pane, **HX))  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        admin_client_member.post(
            reverse("inbox:member-invite"),
            {"email": "new@example.com", "full_name": "Новая Коллега", "role": "agent"},
        )
    assert "Новая Коллега" in _body(admin_client_member.get(pane, **HX))

    membership = Membership.objects.get(workspace=workspace, user__email="new@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_member.post(reverse("inbox:member-remove", args=[membership.pk]))
    assert "Новая Коллега" not in _body(admin_client_member.get(pane, **HX))


def test_interaction_template_picker_follows_template_edits_at_once(
    admin_client_member, workspace, django_capture_on_commit_callbacks
):
    item = make_interaction(workspace=workspace, channel="review")
    pane = reverse("inbox:interaction-detail", args=[item.pk])
    assert "Благодарность" not in _body(admin_client_member.get(pane, **HX))  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        admin_client_member.post(
            reverse("inbox:template-create"),
            {"name": "Благодарность", "text": "Спасибо!", "channel": "review"},
        )
    assert "Благодарность" in _body(admin_client_member.get(pane, **HX))

    template = ReplyTemplate.objects.get(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_member.post(
            reverse("inbox:template-update", args=[template.pk]),
            {"name": "Вопросы", "text": "Ответ", "channel": "question"},
        )
    assert "Вопросы" not in _body(admin_client_member.get(pane, **HX))  # not for reviews

    with django_capture_on_commit_callbacks(execute=True):
        admin_client_member.post(
            reverse("inbox:template-update", args=[template.pk]),
            {"name": "Для всех", "text": "Ответ", "channel": ""},
        )
    assert "Для всех" in _body(admin_client_member.get(pane, **HX))

    with django_capture_on_commit_callbacks(execute=True):
        admin_client_member.post(reverse("inbox:template-delete", args=[template.pk]))
    assert "Для всех" not in _body(admin_client_member.get(pane, **HX))


def test_interaction_history_loads_when_opened(agent_client, workspace):
    item = make_interaction(workspace=workspace, unread_count=1)
    agent_client.post(reverse("inbox:interaction-read", args=[item.pk]))  # an event
    pane = reverse("inbox:interaction-detail", args=[item.pk])

    closed = _body(agent_client.get(pane, **HX))
    opened = _body(agent_client.get(pane, HTTP_HX_TARGET="interaction-timeline", **HX))

    assert 'id="interaction-timeline"' in closed and 'hx-trigger="toggle once' in closed
    assert "<li>" not in closed.split('id="interaction-timeline"')[1].split("</ol>")[0]
    assert opened.strip().startswith('<ol id="interaction-timeline"') and "hx-get" not in opened
    event = InteractionEvent.objects.get(interaction=item)
    assert str(event.get_kind_display()) in opened


def test_interaction_history_without_events_says_so(agent_client, workspace):
    item = make_interaction(workspace=workspace)

    opened = _body(
        agent_client.get(
            reverse("inbox:interaction-detail", args=[item.pk]),
            HTTP_HX_TARGET="interaction-timeline",
            **HX,
        )
    )

    assert "<li>Событий пока нет.</li>" in opened


def test_interaction_note_is_private_and_shown(agent_client, workspace):
    item = make_interaction(workspace=workspace)

    response = agent_client.post(
        reverse("inbox:interaction-note", args=[item.pk]), {"text": "Проверить склад"}, **HX
    )

    assert list(Message.objects.filter(interaction=item).values_list("direction", "text")) == [
        ("note", "Проверить склад")
    ]
    assert "Проверить склад" in _body(response)


def test_interaction_read_clears_unread(agent_client, workspace):
    item = make_interaction(workspace=workspace, unread_count=2)

    response = agent_client.post(reverse("inbox:interaction-read", args=[item.pk]), **HX)

    item.refresh_from_db()
    assert (response.status_code, item.unread_count) == (204, 0)


def test_interaction_template_fills_name_and_product(agent_client, workspace):
    product = make_product(workspace=workspace, name="Куртка зимняя")
    item = make_interaction(workspace=workspace, customer_name="Ольга", product=product)
    template = ReplyTemplate.objects.create(
        workspace=workspace, name="Спасибо", text="{name}, спасибо за выбор «{product}»!"
    )

    body = _body(
        agent_client.get(
            reverse("inbox:interaction-template", args=[item.pk]),
            {"template": template.pk, "text": "Здравствуйте!"},
            **HX,
        )
    )

    assert "Здравствуйте!\n\nОльга, спасибо за выбор «Куртка зимняя»!" in body
    assert body.lstrip().startswith('<div id="composer"')


def test_interaction_presence_shows_another_agent_typing(agent_client, workspace, owner):
    item = make_interaction(workspace=workspace)
    touch_presence(item, user=owner, is_typing=True)

    body = _body(
        agent_client.post(
            reverse("inbox:interaction-presence", args=[item.pk]), {"typing": ""}, **HX
        )
    )

    assert "Ольга Владелец" in body
    assert "is-typing" in body


# --- bulk ---------------------------------------------------------------------------------------


def test_inbox_bulk_publishes_selected_drafts_and_shows_progress(agent_client, workspace):
    ok = make_interaction(workspace=workspace, draft=GOOD_DRAFT)
    blocked = make_interaction(
        workspace=workspace, draft="Гарантируем возврат денег в течение дня."
    )
    answered = make_interaction(workspace=workspace, draft=GOOD_DRAFT, is_answered=True)

    response = agent_client.post(
        reverse("inbox:inbox-bulk"),
        {"action": "publish", "scope": "selected", "ids": [ok.pk, blocked.pk, answered.pk]},
        **HX,
    )

    body = _body(response)
    assert list(Message.objects.filter(direction="out").values_list("interaction", flat=True)) == [
        ok.pk
    ]
    assert body.lstrip().startswith('<div id="bulk-result"')
    assert "<progress" in body
    assert "inbox-bulk-progress" not in body or "batch=" in body
    assert "Заблокировано проверкой: 1" in body and "Уже отвечено: 1" in body


def _run_default_queue() -> None:
    queue = get_queue("default")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_inbox_bulk_all_matching_publishes_every_match_in_the_background(
    agent_client, workspace, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk, "BULK_CHUNK", 4)
    fives = [
        make_interaction(workspace=workspace, rating=5, draft=GOOD_DRAFT + f" #{i}")
        for i in range(11)
    ]
    one = make_interaction(workspace=workspace, rating=1, draft=GOOD_DRAFT)

    with django_capture_on_commit_callbacks(execute=True):
        started = _body(
            agent_client.post(
                reverse("inbox:inbox-bulk"),
                {"action": "publish", "scope": "all", "filter": "rating=5"},
                **HX,
            )
        )
    assert not Message.objects.exists()
    assert "bulk-running" in started
    _run_default_queue()

    published = set(Message.objects.filter(direction="out").values_list("interaction", flat=True))
    assert published == {f.pk for f in fives}
    assert one.pk not in published
    batch = re.search(r"batch=([0-9a-f]+)", started).group(1)
    progress = _body(
        agent_client.get(reverse("inbox:inbox-bulk-progress") + f"?batch={batch}", **HX)
    )
    assert '<progress max="11" value="0">' in progress
    assert "bulk-running" not in progress


def test_inbox_bulk_all_matching_closes_every_match(
    agent_client, workspace, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk, "BULK_CHUNK", 2)
    chats = [make_interaction(workspace=workspace, channel="chat") for _ in range(5)]
    review = make_interaction(workspace=workspace, channel="review")

    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(
            reverse("inbox:inbox-bulk"),
            {"action": "close", "scope": "all", "filter": "channel=chat"},
        )
    _run_default_queue()

    assert {i.pk for i in Interaction.objects.filter(status="closed")} == {c.pk for c in chats}
    review.refresh_from_db()
    assert review.status != "closed"


def test_inbox_bulk_says_it_stopped_when_its_job_fails(
    agent_client, owner_client, workspace, agent, django_capture_on_commit_callbacks
):
    make_interaction(workspace=workspace, rating=5, draft=GOOD_DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        started = _body(
            agent_client.post(
                reverse("inbox:inbox-bulk"),
                {"action": "publish", "scope": "all", "filter": "rating=5"},
                **HX,
            )
        )
    batch = re.search(r"batch=([0-9a-f]+)", started).group(1)
    agent.delete()  # the member who started it is removed before a worker picks the job up

    _run_default_queue()

    progress = _body(
        owner_client.get(reverse("inbox:inbox-bulk-progress") + f"?batch={batch}", **HX)
    )
    assert "bulk-stopped" in progress
    assert "bulk-running" not in progress
    assert not Message.objects.exists()


def test_inbox_bulk_close_without_htmx_redirects(agent_client, workspace):
    items = [make_interaction(workspace=workspace) for _ in range(2)]

    response = agent_client.post(
        reverse("inbox:inbox-bulk"),
        {"action": "close", "scope": "selected", "ids": [i.pk for i in items]},
    )

    assert response.status_code == 302
    assert set(Interaction.objects.values_list("status", flat=True)) == {"closed"}


def test_inbox_bulk_ignores_another_workspaces_ids(agent_client, workspace, other_workspace):
    foreign = make_interaction(workspace=other_workspace, draft=GOOD_DRAFT)

    agent_client.post(
        reverse("inbox:inbox-bulk"), {"action": "close", "scope": "selected", "ids": [foreign.pk]}
    )

    foreign.refresh_from_db()
    assert foreign.status == "new"


def test_inbox_bulk_progress_partial(agent_client, workspace):
    item = make_interaction(workspace=workspace, draft=GOOD_DRAFT)
    body = _body(
        agent_client.post(
            reverse("inbox:inbox-bulk"),
            {"action": "publish", "scope": "selected", "ids": [item.pk]},
            **HX,
        )
    )
    batch = re.search(r"batch=([0-9a-f]+)", body).group(1)

    progress = agent_client.get(reverse("inbox:inbox-bulk-progress") + f"?batch={batch}", **HX)

    assert '<progress max="1" value="0">' in _body(progress)
    assert "<html" not in _body(progress)


# --- saved views --------------------------------------------------------------------------------


def test_saved_view_create_personal_and_list_with_count(
    agent_client, workspace, agent, django_capture_on_commit_callbacks
):
    make_interaction(workspace=workspace, rating=5)
    agent_client.get(reverse("inbox:saved-views"), **HX)  # the views are cached now

    with django_capture_on_commit_callbacks(execute=True):  # the commit forgets the cache
        agent_client.post(
            reverse("inbox:saved-views"), {"name": "Пятёрки", "query": "rating=5"}, **HX
        )
    listed = _body(agent_client.get(reverse("inbox:saved-views"), **HX))

    view = SavedView.objects.get()
    assert (view.owner, view.is_shared, view.query) == (agent, False, "rating=5")
    assert re.search(r"Пятёрки <span class=\"count\"[^>]*>1</span>", listed)

    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(reverse("inbox:saved-view-delete", args=[view.pk]), **HX)
    assert "Пятёрки" not in _body(agent_client.get(reverse("inbox:saved-views"), **HX))


def test_inbox_page_names_saved_views_at_once_and_asks_for_their_counts_when_loaded(
    agent_client, workspace, agent
):
    make_interaction(workspace=workspace, rating=5)
    SavedView.objects.create(workspace=workspace, owner=agent, name="Пятёрки", query="rating=5")

    page = _body(agent_client.get(reverse("inbox:inbox")))
    counts = _body(agent_client.get(reverse("inbox:saved-views"), **HX))

    assert "Пятёрки</a>" in page
    assert re.search(r'hx-get="[^"]*/inbox/views/"[^>]*hx-trigger="load, ', page)
    assert re.search(r"Пятёрки <span class=\"count\"[^>]*>1</span>", counts)
    assert 'hx-trigger="load, ' not in counts


def test_saved_view_form_saves_the_filter_the_list_shows_now(agent_client, workspace, agent):
    SavedView.objects.create(workspace=workspace, owner=agent, name="Пятёрки", query="rating=5")
    hidden_query = r'<input type="hidden" name="query" id="saved-view-query" form="saved-view-form" value="([^"]*)"'

    page = _body(agent_client.get(reverse("inbox:inbox") + "?rating=5"))
    refreshed_views = _body(agent_client.get(reverse("inbox:saved-views"), **HX))
    refiltered = _body(agent_client.get(reverse("inbox:inbox") + "?rating=1&channel=review", **HX))

    # the query travels with the list (swapped on every filter change), not with the views
    assert re.search(hidden_query, page).group(1) == "rating=5"
    assert 'id="saved-view-form"' in refreshed_views and "saved-view-query" in refreshed_views
    assert 'name="query"' not in refreshed_views
    assert re.search(hidden_query, refiltered).group(1) == "channel=review&amp;rating=1"


def test_saved_view_agent_cannot_share(agent_client):
    agent_client.post(reverse("inbox:saved-views"), {"name": "Все", "query": "", "is_shared": "on"})

    assert SavedView.objects.count() == 0


def test_saved_view_admin_can_share_and_agent_sees_it(admin_client_member, agent_client):
    admin_client_member.post(
        reverse("inbox:saved-views"), {"name": "Команда", "query": "", "is_shared": "on"}
    )

    body = _body(agent_client.get(reverse("inbox:saved-views"), **HX))

    assert "Команда" in body


def test_saved_view_agent_cannot_delete_a_shared_view_of_another(agent_client, workspace, owner):
    view = SavedView.objects.create(workspace=workspace, owner=owner, name="Общий", is_shared=True)

    response = agent_client.post(reverse("inbox:saved-view-delete", args=[view.pk]))

    assert response.status_code == 403
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_saved_view_owner_deletes_own_view(agent_client, workspace, agent):
    view = SavedView.objects.create(workspace=workspace, owner=agent, name="Мой")

    response = agent_client.post(reverse("inbox:saved-view-delete", args=[view.pk]))

    assert response.status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


@pytest.mark.parametrize("client_fixture", ["owner_client", "admin_client_member", "agent_client"])
def test_every_role_can_work_the_inbox(request, workspace, client_fixture):
    client: Client = request.getfixturevalue(client_fixture)
    item = make_interaction(workspace=workspace)

    assert client.get(reverse("inbox:inbox")).status_code == 200
    assert client.get(reverse("inbox:interaction-detail", args=[item.pk])).status_code == 200


def test_interaction_status_htmx_error_is_shown_in_the_detail(agent_client, workspace):
    item = make_interaction(workspace=workspace, status="open")

    response = agent_client.post(
        reverse("inbox:interaction-status", args=[item.pk]), {"status": "snoozed"}, **HX
    )

    body = _body(response)
    assert 'role="alert"' in body
    assert "Choose how long to snooze." in body or "snooze" in body.lower()


def test_the_home_page_counts_what_awaits_a_reply_and_links_to_it(agent_client, workspace):
    now = timezone.now()
    make_interaction(workspace=workspace, sla_deadline_at=now - timedelta(hours=1))
    make_interaction(workspace=workspace, sla_deadline_at=now + timedelta(hours=1))
    make_interaction(workspace=workspace, needs_response=False)
    make_interaction(workspace=workspace, status="closed")

    body = _body(agent_client.get(reverse("inbox:home")))

    inbox = reverse("inbox:inbox")
    assert f'<a href="{inbox}">3</a>' in body  # open
    assert f'<a href="{inbox}?needs_response=on&amp;sort=sla">2</a>' in body
    assert f'<a href="{inbox}?sla=overdue&amp;sort=sla">1</a>' in body
    overdue = _body(agent_client.get(inbox, {"sla": "overdue", "sort": "sla"}))
    assert overdue.count('class="row-link"') == 1


def test_the_home_page_names_the_accounts_the_seller_must_act_on(agent_client, workspace):
    soon = (timezone.now() + timedelta(days=3)).isoformat()
    revoked = make_account(workspace=workspace, name="Старый кабинет", sync_status="auth_error")
    make_account(
        workspace=workspace,
        name="Кабинет Ozon",
        marketplace="ozon",
        channel_errors={"review": "нужна подписка"},
        token_info={"expires_at": soon},
    )
    make_account(workspace=workspace, name="Всё в порядке", sync_status="ok")
    make_account(workspace=workspace, name="На паузе", sync_status="auth_error", is_active=False)

    body = _body(agent_client.get(reverse("inbox:home")))

    attention = body.split('id="attention-title"', 1)[1].split("</section>", 1)[0]
    assert reverse("inbox:account-detail", args=[revoked.pk]) in attention
    assert "не принимает токен" in attention
    assert "Отзыв: нужна подписка" in attention and "Токен истекает" in attention
    assert "Всё в порядке" not in attention and "На паузе" not in attention
