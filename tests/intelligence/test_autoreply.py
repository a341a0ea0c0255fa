from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import (
    AutoReplyRule,
    InteractionEvent,
    Message,
    ReplyTemplate,
    Workspace,
)
from inbox.services.replies import publish_message
from intelligence import autoreply, services
from intelligence.demo import install_demo_rules
from intelligence.exceptions import AutoReplyAlreadySent, ReplyBlockedByGuardrail
from tests.factories import make_account, make_interaction, make_message, make_product

pytestmark = pytest.mark.django_db


def _rule(workspace: Workspace, **overrides) -> AutoReplyRule:
    fields = {
        "name": f"rule {AutoReplyRule.objects.count() + 1}",
        "mode": AutoReplyRule.Mode.PUBLISH,
        "rating_min": 4,
        "rating_max": 5,
    }
    fields.update(overrides)
    return AutoReplyRule.objects.create(workspace=workspace, **fields)


def _analysed(workspace: Workspace, **overrides):
    interaction = make_interaction(workspace=workspace, **overrides)
    return services.analyze(interaction)


def _auto_events(interaction) -> list[InteractionEvent]:
    return list(
        InteractionEvent.objects.for_workspace(interaction.workspace)
        .filter(interaction=interaction, kind=InteractionEvent.Kind.AUTO_REPLY)
        .order_by("pk")  # two events of one instant have no other order
    )


def _outbound(interaction) -> list[Message]:
    return list(
        Message.objects.for_workspace(interaction.workspace).filter(
            interaction=interaction, direction=Message.Direction.OUTBOUND
        )
    )


def _confirmed_answer(
    interaction, text: str, author_type: str = Message.AuthorType.SELLER
) -> Message:
    return make_message(
        interaction=interaction,
        direction=Message.Direction.OUTBOUND,
        author_type=author_type,
        delivery_status=Message.DeliveryStatus.CONFIRMED,
        text=text,
    )


def test_five_star_review_gets_queued_ai_reply(workspace: Workspace):
    _rule(workspace)
    interaction = _analysed(workspace, rating=5, text="Отличная футболка, спасибо!")

    event = autoreply.evaluate_auto_reply(interaction)

    [message] = _outbound(interaction)
    assert (message.author_type, message.delivery_status) == ("ai", "queued")
    assert message.text == interaction.draft
    assert event is not None
    assert event.payload["message_id"] == message.pk
    assert event.payload["shadow"] is False


@pytest.mark.parametrize("rating", [1, 2, 3])
def test_low_ratings_are_never_auto_answered_without_permission(workspace, rating):
    _rule(workspace, rating_min=1, rating_max=5, sentiments=["positive", "neutral", "negative"])
    interaction = _analysed(workspace, rating=rating, text="Нормально")

    assert autoreply.evaluate_auto_reply(interaction) is None
    assert _outbound(interaction) == []


def test_a_health_or_safety_incident_is_never_auto_answered_even_at_five_stars(workspace):
    _rule(workspace, rating_min=4, rating_max=5, sentiments=["positive", "neutral"])
    interaction = _analysed(
        workspace, rating=5, text="Всё супер, ребёнок правда подавился колпачком, но обошлось"
    )

    assert interaction.sentiment == "positive" and interaction.priority == "urgent"
    assert interaction.needs_response  # it awaits a person's answer
    assert autoreply.evaluate_auto_reply(interaction) is None
    assert _outbound(interaction) == []


def test_a_question_is_auto_answered_only_with_a_real_answer(workspace: Workspace):
    _rule(workspace, channel="question", rating_min=1, rating_max=5)
    account = make_account(workspace=workspace)
    card = {"characteristics": {"Состав": ["хлопок 100%"]}}
    product = make_product(workspace=workspace, account=account, card_data=card)
    asked = {"channel": "question", "rating": None, "account": account, "product": product}
    unknown = [
        _analysed(workspace, text=text, **asked)
        for text in (
            "Это оригинал?",
            "Будет ли поступление в ближайшее время?",
            "Какой размер брать на рост 165 и вес 55?",
        )
    ]
    known = _analysed(workspace, text="Какой состав ткани?", **asked)

    for interaction in [*unknown, known]:
        autoreply.evaluate_auto_reply(interaction)

    for interaction in unknown:  # "we'll find out and answer here" is no answer
        assert _outbound(interaction) == [], interaction.draft
    assert "хлопок 100%" in _outbound(known)[0].text


def test_low_rating_answered_when_rule_allows(workspace: Workspace):
    template = ReplyTemplate.objects.create(
        workspace=workspace, name="t", text="Здравствуйте, {name}! Спасибо, что поделились мнением."
    )
    _rule(
        workspace,
        rating_min=3,
        rating_max=3,
        allow_low_ratings=True,
        source=AutoReplyRule.Source.TEMPLATE,
        template=template,
        sentiments=["neutral", "positive"],
    )
    interaction = _analysed(
        workspace, rating=3, text="Купила в подарок, ещё не пробовала.", customer_name="Анна"
    )
    assert interaction.sentiment in {"neutral", "positive"}

    autoreply.evaluate_auto_reply(interaction)

    assert [m.text for m in _outbound(interaction)] == [
        "Здравствуйте, Анна! Спасибо, что поделились мнением."
    ]


def test_negative_sentiment_not_answered_unless_listed(workspace: Workspace):
    _rule(workspace, rating_min=4, rating_max=5)
    interaction = _analysed(
        workspace, rating=5, text="Ужасно, порвалась через день, брак, верните деньги"
    )
    assert interaction.sentiment == "negative"

    assert autoreply.evaluate_auto_reply(interaction) is None


def test_a_template_never_answers_a_happy_review_that_states_a_shortcoming(workspace):
    template = ReplyTemplate.objects.create(workspace=workspace, name="t", text="Спасибо за отзыв!")
    by_template = _rule(workspace, source=AutoReplyRule.Source.TEMPLATE, template=template)
    by_draft = _rule(workspace)
    caveat = _analysed(workspace, rating=5, text="Футболка отличная, но пришла без бирки и пакета.")
    praise = _analysed(workspace, rating=5, text="Отличная футболка, спасибо!")
    assert (caveat.sentiment, caveat.needs_response) == ("positive", True)

    assert autoreply.rule_matches(by_template, caveat) is False
    assert autoreply.rule_matches(by_draft, caveat) is True
    assert autoreply.rule_matches(by_template, praise) is True


def test_a_review_that_mainly_asks_something_is_left_to_a_person(workspace: Workspace):
    rule = _rule(workspace)
    interaction = _analysed(
        workspace, rating=5, text="Подскажите, пожалуйста, можно ли стирать в машинке?"
    )
    assert interaction.intent == "product_question"

    assert autoreply.rule_matches(rule, interaction) is False
    assert autoreply.evaluate_auto_reply(interaction) is None


def test_rule_filters_marketplace_channel_product_brand_and_text(workspace: Workspace):
    account = make_account(workspace=workspace, marketplace="wb")
    product = make_product(workspace=workspace, account=account, brand="Ромашка")
    other = make_product(workspace=workspace, account=account, brand="Другая")
    interaction = _analysed(workspace, account=account, product=product, rating=5, text="Отлично!")

    assert autoreply.rule_matches(_rule(workspace, marketplace="ozon"), interaction) is False
    assert autoreply.rule_matches(_rule(workspace, channel="question"), interaction) is False
    assert autoreply.rule_matches(_rule(workspace, product=other), interaction) is False
    assert autoreply.rule_matches(_rule(workspace, brand="другая"), interaction) is False
    assert (
        autoreply.rule_matches(_rule(workspace, text_presence="without_text"), interaction) is False
    )
    assert (
        autoreply.rule_matches(_rule(workspace, rating_min=1, rating_max=4), interaction) is False
    )
    assert (
        autoreply.rule_matches(
            _rule(
                workspace,
                marketplace="wb",
                product=product,
                brand="ромашка",
                text_presence="with_text",
            ),
            interaction,
        )
        is True
    )


def test_template_fills_name_and_product(workspace: Workspace):
    template = ReplyTemplate.objects.create(
        workspace=workspace, name="t", text="Здравствуйте, {name}! Спасибо за оценку {product}."
    )
    _rule(workspace, source=AutoReplyRule.Source.TEMPLATE, template=template)
    account = make_account(workspace=workspace)
    product = make_product(workspace=workspace, account=account, name="Плед")
    interaction = _analysed(
        workspace, account=account, product=product, rating=5, customer_name="Анна"
    )

    autoreply.evaluate_auto_reply(interaction)

    assert [m.text for m in _outbound(interaction)] == [
        "Здравствуйте, Анна! Спасибо за оценку Плед."
    ]


def test_fill_placeholders_without_name_leaves_no_stray_comma():
    assert (
        autoreply.fill_placeholders("Здравствуйте, {name}! Спасибо.", name="", product="")
        == "Здравствуйте! Спасибо."
    )


def test_shadow_rule_records_and_publishes_nothing(workspace: Workspace):
    rule = _rule(workspace, mode=AutoReplyRule.Mode.SHADOW)
    interaction = _analysed(workspace, rating=5)

    event = autoreply.evaluate_auto_reply(interaction)

    assert _outbound(interaction) == []
    assert event is not None
    assert event.payload["shadow"] is True
    assert event.payload["rule_id"] == rule.pk
    assert event.payload["text"] == interaction.draft


def test_shadow_summary_counts_by_rating_and_channel(workspace: Workspace):
    rule = _rule(workspace, mode=AutoReplyRule.Mode.SHADOW)
    account = make_account(workspace=workspace)
    for rating in (5, 5, 4):
        autoreply.evaluate_auto_reply(_analysed(workspace, account=account, rating=rating))

    summary = autoreply.shadow_summary(rule)

    assert summary.total == 3
    assert dict(summary.by_rating) == {4: 1, 5: 2}
    assert dict(summary.by_channel) == {"review": 3}
    assert len(summary.samples) == 3


def test_evaluating_twice_answers_once(workspace: Workspace):
    _rule(workspace)
    interaction = _analysed(workspace, rating=5)

    autoreply.evaluate_auto_reply(interaction)
    second = autoreply.evaluate_auto_reply(interaction)

    assert second is None
    assert len(_outbound(interaction)) == 1
    assert len(_auto_events(interaction)) == 1


def test_publish_delay_sets_publish_after(workspace: Workspace):
    _rule(workspace, publish_delay_minutes=15)
    interaction = _analysed(workspace, rating=5)
    now = timezone.now()

    autoreply.evaluate_auto_reply(interaction, now=now)

    [message] = _outbound(interaction)
    assert message.publish_after == now + timedelta(minutes=15)


def test_cancelled_auto_reply_is_never_published(workspace: Workspace, owner):
    _rule(workspace, publish_delay_minutes=15)
    interaction = _analysed(workspace, rating=5)
    autoreply.evaluate_auto_reply(interaction)
    [message] = _outbound(interaction)

    autoreply.cancel_auto_reply(message, actor=owner)
    result = publish_message(message.pk, now=timezone.now() + timedelta(hours=1))

    assert result.delivery_status == "cancelled"
    assert result.attempts == 0
    assert _auto_events(interaction)[-1].payload == {"cancelled": True, "message_id": message.pk}


def test_cancel_after_sending_started_is_refused(workspace: Workspace, owner):
    _rule(workspace)
    interaction = _analysed(workspace, rating=5)
    autoreply.evaluate_auto_reply(interaction)
    [message] = _outbound(interaction)
    Message.objects.filter(pk=message.pk).update(delivery_status=Message.DeliveryStatus.SENDING)

    with pytest.raises(AutoReplyAlreadySent):
        autoreply.cancel_auto_reply(message, actor=owner)


def test_repetitive_draft_is_replaced_by_another_variant(workspace: Workspace):
    _rule(workspace)
    account = make_account(workspace=workspace)
    previous = make_interaction(workspace=workspace, account=account)
    interaction = _analysed(workspace, account=account, rating=5)
    _confirmed_answer(previous, interaction.draft)

    event = autoreply.evaluate_auto_reply(interaction)

    [message] = _outbound(interaction)
    assert message.text != interaction.draft
    assert event.payload["repetition_warning"] is False
    assert event.payload["similarity"] < services.SIMILARITY_THRESHOLD


def test_only_repetitive_template_is_sent_with_warning(workspace: Workspace):
    template = ReplyTemplate.objects.create(workspace=workspace, name="t", text="Спасибо за отзыв!")
    _rule(workspace, source=AutoReplyRule.Source.TEMPLATE, template=template)
    account = make_account(workspace=workspace)
    previous = make_interaction(workspace=workspace, account=account)
    _confirmed_answer(previous, "Спасибо за отзыв!", author_type=Message.AuthorType.AI)
    interaction = _analysed(workspace, account=account, rating=5)

    event = autoreply.evaluate_auto_reply(interaction)

    assert event.payload["repetition_warning"] is True
    assert [m.text for m in _outbound(interaction)] == ["Спасибо за отзыв!"]


def test_response_cache_reuses_confirmed_answer_with_new_greeting_and_closing(
    workspace: Workspace,
):
    account = make_account(workspace=workspace)
    product = make_product(workspace=workspace, account=account)
    previous = _analysed(workspace, account=account, product=product, rating=5)
    cached = (
        "Здравствуйте, Ольга! Спасибо, что выбрали нашу футболку, носите с удовольствием. "
        "Будем рады видеть вас снова!"
    )
    _confirmed_answer(previous, cached)
    interaction = _analysed(
        workspace, account=account, product=product, rating=5, customer_name="Пётр"
    )

    [candidate] = [
        text
        for source, text in autoreply._candidates(interaction, _rule(workspace))
        if source == "cache"
    ]

    assert candidate.startswith(("Здравствуйте, Пётр!", "Пётр,", "Добрый день, Пётр!"))
    assert "носите с удовольствием" in candidate
    assert not candidate.endswith("Будем рады видеть вас снова!")


def test_response_cache_holds_only_answers_to_plain_praise_and_serves_only_plain_praise(
    workspace: Workspace,
):
    account = make_account(workspace=workspace)
    product = make_product(workspace=workspace, account=account)
    remarked = _analysed(
        workspace,
        account=account,
        product=product,
        rating=4,
        text="Всё хорошо, но доставка заняла две недели",
    )
    _confirmed_answer(
        remarked, "Здравствуйте! Спасибо! Передадим службе доставки, что заказ шёл долго."
    )
    praised = _analysed(
        workspace, account=account, product=product, rating=5, text="Отличная вещь, спасибо!"
    )
    _confirmed_answer(
        praised, "Здравствуйте! Спасибо, носите с удовольствием. Будем рады видеть вас снова!"
    )
    plain = _analysed(workspace, account=account, product=product, rating=5, text="Супер!")
    caveat = _analysed(
        workspace,
        account=account,
        product=product,
        rating=5,
        text="Хорошая, но коробка пришла мятая",
    )
    assert remarked.needs_response and caveat.needs_response and not plain.needs_response

    def cached(interaction) -> list[str]:
        return [t for s, t in autoreply._candidates(interaction, _rule(workspace)) if s == "cache"]

    [candidate] = cached(plain)
    assert "носите с удовольствием" in candidate
    assert cached(caveat) == []


def test_guardrail_block_stops_auto_reply_and_is_recorded(workspace: Workspace):
    template = ReplyTemplate.objects.create(
        workspace=workspace,
        name="t",
        text="Спасибо! Пишите нам на почту shop@example.com или звоните +7 900 123-45-67.",
    )
    rule = _rule(workspace, source=AutoReplyRule.Source.TEMPLATE, template=template)
    interaction = _analysed(workspace, rating=5)

    event = autoreply.evaluate_auto_reply(interaction)

    assert _outbound(interaction) == []
    assert event.payload == {"shadow": False, "rule_id": rule.pk, "skipped": "guardrail_blocked"}


def test_check_outgoing_reply_blocks_on_guardrail(workspace: Workspace):
    from inbox.services.replies import queue_reply

    interaction = _analysed(workspace, rating=5)

    with pytest.raises(ReplyBlockedByGuardrail) as error:
        queue_reply(interaction, text="Звоните +7 900 123-45-67, вернём деньги!", actor=None)

    assert error.value.findings
    assert _outbound(interaction) == []


def test_demo_rule_is_installed_once_in_publish_mode(workspace: Workspace):
    first = install_demo_rules(workspace)
    second = install_demo_rules(workspace)

    assert first.pk == second.pk
    assert (first.mode, first.rating_min, first.rating_max) == ("publish", 5, 5)
