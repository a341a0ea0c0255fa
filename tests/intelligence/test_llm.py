from datetime import date

import pytest
from django.utils import timezone

from inbox.models import Interaction, InteractionEvent, LLMUsage, Message, Workspace
from intelligence import llm, services
from intelligence.analysis import AnalysisInput
from intelligence.exceptions import LLMCircuitOpen, LLMMalformed, LLMTimeout, LLMUnavailable
from tests.factories import make_interaction, make_message
from tests.intelligence.fake_llm import FakeLLM, fake_llm_fixture  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def _input() -> AnalysisInput:
    return AnalysisInput(
        channel="review", marketplace="wb", text="Отличная футболка!", rating=5, seed="1"
    )


def _usage(workspace: Workspace) -> LLMUsage:
    return LLMUsage.objects.for_workspace(workspace).get(day=timezone.localdate())


def test_analyze_with_llm_returns_validated_analysis(fake_llm: FakeLLM, workspace: Workspace):
    analysis = llm.analyze_with_llm(_input(), workspace=workspace)

    assert (analysis.sentiment, analysis.intent, analysis.priority, analysis.engine) == (
        "positive",
        "praise",
        "low",
        "llm",
    )
    assert analysis.draft.startswith("Здравствуйте!")


def test_analyze_with_llm_sends_model_key_and_json_mode(fake_llm: FakeLLM, workspace: Workspace):
    llm.analyze_with_llm(_input(), workspace=workspace)

    body = fake_llm.requests[0]
    assert body["model"] == "deepseek-chat"
    assert body["response_format"] == {"type": "json_object"}
    assert fake_llm.headers[0]["Authorization"] == "Bearer sk-test-0000"
    assert "Отличная футболка!" in body["messages"][1]["content"]


def test_analyze_with_llm_records_tokens_per_workspace_and_day(
    fake_llm: FakeLLM, workspace: Workspace
):
    llm.analyze_with_llm(_input(), workspace=workspace)
    llm.analyze_with_llm(_input(), workspace=workspace)

    usage = _usage(workspace)
    assert (usage.requests, usage.prompt_tokens, usage.completion_tokens, usage.failures) == (
        2,
        240,
        90,
        0,
    )
    assert isinstance(usage.day, date)


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("slow", LLMTimeout),
        ("error", LLMUnavailable),
        ("broken", LLMMalformed),
        ("wrong_enum", LLMMalformed),
    ],
)
def test_analyze_with_llm_raises_on_bad_answers(
    fake_llm: FakeLLM, workspace: Workspace, mode: str, error: type[Exception]
):
    fake_llm.mode, fake_llm.delay = mode, 1.5

    with pytest.raises(error):
        llm.analyze_with_llm(_input(), workspace=workspace)

    assert _usage(workspace).failures == 1


def test_missing_field_is_malformed(fake_llm: FakeLLM, workspace: Workspace):
    del fake_llm.answer["draft"]

    with pytest.raises(LLMMalformed):
        llm.analyze_with_llm(_input(), workspace=workspace)


def test_malformed_answer_still_bills_its_tokens(fake_llm: FakeLLM, workspace: Workspace):
    fake_llm.mode = "wrong_enum"

    with pytest.raises(LLMMalformed):
        llm.analyze_with_llm(_input(), workspace=workspace)

    usage = _usage(workspace)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.failures) == (120, 45, 1)


@pytest.mark.parametrize("mode", ["slow", "error", "broken", "wrong_enum"])
def test_analyze_with_fallback_uses_rules_engine(fake_llm: FakeLLM, workspace: Workspace, mode):
    fake_llm.mode, fake_llm.delay = mode, 1.5

    result = llm.analyze_with_fallback(_input(), workspace=workspace)

    assert result.analysis.engine == "rules"
    assert result.analysis.draft
    assert result.fallback_reason in {"timeout", "unavailable", "malformed"}


def test_breaker_opens_after_consecutive_failures_and_stops_calling(
    fake_llm: FakeLLM, workspace: Workspace
):
    fake_llm.mode = "error"
    for _ in range(3):
        with pytest.raises(LLMUnavailable):
            llm.analyze_with_llm(_input(), workspace=workspace)

    with pytest.raises(LLMCircuitOpen):
        llm.analyze_with_llm(_input(), workspace=workspace)

    assert llm.breaker().state() == llm.BreakerState.OPEN
    assert len(fake_llm.requests) == 3


def test_open_breaker_falls_back_to_rules(fake_llm: FakeLLM, workspace: Workspace):
    fake_llm.mode = "error"
    for _ in range(3):
        llm.analyze_with_fallback(_input(), workspace=workspace)
    fake_llm.mode = "good"

    result = llm.analyze_with_fallback(_input(), workspace=workspace)

    assert (result.analysis.engine, result.fallback_reason) == ("rules", "circuit_open")


def test_breaker_half_open_probe_success_closes_it(fake_llm: FakeLLM, workspace: Workspace):
    breaker = llm.CircuitBreaker("test:breaker", failures=2, window_seconds=60, cooldown_seconds=1)
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state() == llm.BreakerState.OPEN

    llm.get_redis().delete("test:breaker:open")  # the cool-down expired

    assert breaker.state() == llm.BreakerState.HALF_OPEN
    assert breaker.allow() is True
    assert breaker.allow() is False  # only one probe at a time
    breaker.record_success()
    assert breaker.state() == llm.BreakerState.CLOSED


def test_breaker_half_open_probe_failure_reopens(fake_llm: FakeLLM, workspace: Workspace):
    breaker = llm.CircuitBreaker("test:breaker", failures=2, window_seconds=60, cooldown_seconds=30)
    breaker.record_failure()
    breaker.record_failure()
    llm.get_redis().delete("test:breaker:open")
    assert breaker.allow() is True

    breaker.record_failure()

    assert breaker.state() == llm.BreakerState.OPEN


def test_breaker_counts_only_failures_within_window(workspace: Workspace):
    breaker = llm.CircuitBreaker("test:breaker", failures=2, window_seconds=60, cooldown_seconds=30)
    breaker.record_failure()
    llm.get_redis().delete("test:breaker:failures")  # the window passed

    breaker.record_failure()

    assert breaker.state() == llm.BreakerState.CLOSED


def test_breaker_success_resets_consecutive_failures(workspace: Workspace):
    breaker = llm.CircuitBreaker("test:breaker", failures=2, window_seconds=60, cooldown_seconds=30)
    breaker.record_failure()
    breaker.record_success()

    breaker.record_failure()

    assert breaker.state() == llm.BreakerState.CLOSED


def test_analyze_service_under_llm_engine_saves_llm_result(fake_llm: FakeLLM, workspace: Workspace):
    interaction = make_interaction(workspace=workspace)

    services.analyze(interaction)

    interaction.refresh_from_db()
    assert (interaction.sentiment, interaction.intent, interaction.ai_analysis["engine"]) == (
        "positive",
        "praise",
        "llm",
    )
    assert interaction.draft == fake_llm.answer["draft"]
    assert _usage(workspace).requests == 1


def test_the_llm_sees_the_sellers_reply_and_what_the_buyer_wrote_after_it(
    fake_llm: FakeLLM, workspace: Workspace
):
    chat = make_interaction(workspace=workspace, channel="chat", rating=None, text="")
    make_message(interaction=chat, text="Где мой заказ?")
    make_message(
        interaction=chat,
        direction=Message.Direction.OUTBOUND,
        author_type=Message.AuthorType.SELLER,
        delivery_status=Message.DeliveryStatus.CONFIRMED,
        text="Заказ передан в доставку.",
    )
    make_message(interaction=chat, text="Хорошо, спасибо!")

    services.analyze(chat)

    prompt = fake_llm.requests[0]["messages"][1]["content"]
    assert "Последний ответ продавца: Заказ передан в доставку." in prompt
    assert "(на это и отвечай): Хорошо, спасибо!" in prompt


def test_analyze_service_falls_back_and_awaits_upgrade_when_llm_down(
    fake_llm: FakeLLM, workspace: Workspace
):
    fake_llm.mode = "error"
    interaction = make_interaction(workspace=workspace)

    services.analyze(interaction)

    interaction.refresh_from_db()
    assert interaction.ai_analysis["engine"] == "rules"
    assert interaction.ai_analysis["fallback_reason"] == "unavailable"
    assert interaction.ai_analysis["awaiting_llm"] is True
    assert interaction.draft
    event = InteractionEvent.objects.for_workspace(workspace).get(interaction=interaction)
    assert event.payload["fallback_reason"] == "unavailable"


def test_llm_cap_per_account_gives_the_rest_rules(fake_llm: FakeLLM, workspace, settings):
    settings.LLM_MAX_PER_SYNC = 2
    interactions = [make_interaction(workspace=workspace) for _ in range(3)]
    account = interactions[0].account
    for item in interactions:
        item.account = account
        item.save(update_fields=["account"])

    for item in interactions:
        services.analyze(item)

    engines = [Interaction.objects.get(pk=item.pk).ai_analysis["engine"] for item in interactions]
    assert engines == ["llm", "llm", "rules"]
    assert Interaction.objects.get(pk=interactions[2].pk).ai_analysis["awaiting_llm"] is True
    assert len(fake_llm.requests) == 2


def test_analyze_pending_upgrades_rules_result_to_llm(fake_llm: FakeLLM, workspace, settings):
    settings.LLM_MAX_PER_SYNC = 0
    interaction = make_interaction(workspace=workspace, text="Ткань тонкая, но сидит хорошо")
    services.analyze(interaction)
    assert Interaction.objects.get(pk=interaction.pk).ai_analysis["engine"] == "rules"
    settings.LLM_MAX_PER_SYNC = 10
    llm.get_redis().delete(f"llm:cap:{interaction.account_id}")  # a new sync cycle

    upgraded = len(services.analyze_pending())

    interaction.refresh_from_db()
    assert upgraded == 1
    assert interaction.ai_analysis["engine"] == "llm"
    assert interaction.ai_analysis["awaiting_llm"] is False


def test_an_item_the_rules_find_urgent_stays_urgent_whatever_the_model_says(
    fake_llm: FakeLLM, workspace: Workspace
):
    fake_llm.answer = {**fake_llm.answer, "priority": "normal", "needs_response": False}
    hazard = AnalysisInput(
        channel="review", marketplace="wb", text="Чайник бьёт током", rating=1, seed="1"
    )

    result = llm.analyze_with_fallback(hazard, workspace=workspace)
    calm = llm.analyze_with_fallback(_input(), workspace=workspace)

    assert result.fallback_reason == "" and result.analysis.engine == "llm"
    assert result.analysis.priority == "urgent" and result.analysis.priority_reasons
    assert result.analysis.needs_response is True
    assert calm.analysis.priority == "normal"  # the model's call where the rules see no danger


def test_a_model_draft_the_guardrails_block_is_replaced_by_the_rules_draft(
    fake_llm: FakeLLM, workspace: Workspace
):
    fake_llm.answer = {
        **fake_llm.answer,
        "draft": "Здравствуйте! Не переживайте, вернём деньги и подарим промокод.",
    }
    interaction = make_interaction(workspace=workspace)

    services.analyze(interaction)

    interaction.refresh_from_db()
    assert interaction.ai_analysis["engine"] == "llm"  # the model's reading is kept
    assert interaction.draft and "промокод" not in interaction.draft
    assert not services.check_outgoing_guardrails(interaction, interaction.draft).is_blocked
