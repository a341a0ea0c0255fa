"""The ``llm`` analyser: an OpenAI-compatible chat-completions client (DeepSeek by default).

One pooled `httpx.Client` per process (re-created after a fork, since RQ work-horses are
forked children). Each answer must be strict JSON matching `ANALYSIS_SCHEMA`; anything else is
`LLMMalformed`. Tokens are added to `LLMUsage` per workspace per day with F() expressions.

A circuit breaker whose state lives in Redis (shared by every worker) stops calling the LLM after
`LLM_BREAKER_FAILURES` consecutive failures within `LLM_BREAKER_WINDOW_SECONDS`; after
`LLM_BREAKER_COOLDOWN_SECONDS` one probe call is let through (half-open) and its outcome closes
or re-opens the breaker. `analyze_with_fallback` never fails: it returns the rules engine's
analysis when the LLM cannot give one, so drafts never stop.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import httpx
import jsonschema
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from agentiq.redis import get_redis
from inbox.models import LLMUsage, Workspace
from intelligence.analysis import Analysis, AnalysisInput, Intent, Priority, Sentiment, analyze_text
from intelligence.exceptions import (
    LLMCircuitOpen,
    LLMError,
    LLMMalformed,
    LLMNotConfigured,
    LLMTimeout,
    LLMUnavailable,
)

logger = logging.getLogger(__name__)

ENGINE = "llm"

ANALYSIS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["sentiment", "intent", "priority", "needs_response", "summary", "draft"],
    "properties": {
        "sentiment": {"enum": [s.value for s in Sentiment]},
        "intent": {"enum": [i.value for i in Intent]},
        "priority": {"enum": [p.value for p in Priority]},
        "needs_response": {"type": "boolean"},
        "summary": {"type": "string", "minLength": 1, "maxLength": 500},
        "draft": {"type": "string", "minLength": 1, "maxLength": 2000},
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(ANALYSIS_SCHEMA)

SYSTEM_PROMPT = """Ты помощник продавца на маркетплейсах Wildberries и Ozon. Тебе дают отзыв, \
вопрос или сообщение чата покупателя. Ответь ТОЛЬКО одним JSON-объектом без пояснений и без \
markdown, с полями:
- "sentiment": одно из "positive", "neutral", "negative" (что автор написал, а не звёзды);
- "intent": одно из "quality_defect", "size_fit", "wrong_item", "delivery_packaging", \
"material_smell", "price_value", "return_refund", "product_question", "praise", "other";
- "priority": одно из "urgent" (угроза здоровью, опасность возгорания или удара током, суд, \
полиция, Роспотребнадзор), "high" \
(возврат, брак, не тот товар при негативе), "normal", "low" (ответ не нужен);
- "needs_response": true, если внимательному продавцу стоит ответить (любая жалоба, \
недостаток, вопрос, возврат), иначе false;
- "summary": одно короткое предложение по-русски — о чём обращение;
- "draft": вежливый ответ продавца по-русски, 2–4 предложения, обращение по имени, если оно \
известно. В чате, где продавец уже ответил, отвечай на то, что покупатель написал после \
ответа, без повторного приветствия; если покупатель только благодарит или соглашается, \
needs_response = false, а draft — одна короткая вежливая фраза. Если есть угроза здоровью \
или безопасности, draft сначала просит прекратить пользоваться товаром (прибор — отключить \
от сети), а при недомогании — обратиться к врачу.
Правила для "draft": не обещай возврат денег или компенсацию, не упоминай ИИ, не давай \
ссылок, телефонов и e-mail, не упоминай другие маркетплейсы, не обвиняй покупателя, не \
копируй шаблонные фразы — сформулируй ответ своими словами."""


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class Completion:
    analysis: Analysis
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class FallbackResult:
    """What `analyze_with_fallback` produced; `fallback_reason` is empty when the LLM answered."""

    analysis: Analysis
    fallback_reason: str = ""


# --- the shared HTTP client -------------------------------------------------------------------

_client_lock = threading.Lock()
_client: httpx.Client | None = None
_client_pid: int | None = None


def get_client() -> httpx.Client:
    """The process's pooled client; a forked child builds its own (sockets are not shareable)."""
    global _client, _client_pid
    pid = os.getpid()
    if _client is None or _client_pid != pid:
        with _client_lock:
            if _client is None or _client_pid != pid:
                _client = httpx.Client(
                    limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
                    headers={"User-Agent": "AgentIQ/1.0"},
                )
                _client_pid = pid
    return _client


# --- circuit breaker --------------------------------------------------------------------------


class CircuitBreaker:
    """Closed → open after N failures in a window → half-open after a cool-down (Redis state).

    Keys: `<name>:failures` (a counter that expires with the window), `<name>:open` (exists while
    open, expires after the cool-down), `<name>:tripped` (set while not yet proven healthy, so an
    expired `open` means half-open), `<name>:probe` (the single half-open trial call).
    """

    def __init__(
        self,
        name: str = "llm:breaker",
        *,
        failures: int | None = None,
        window_seconds: int | None = None,
        cooldown_seconds: int | None = None,
    ) -> None:
        self.name = name
        self.failures = failures or settings.LLM_BREAKER_FAILURES
        self.window_seconds = window_seconds or settings.LLM_BREAKER_WINDOW_SECONDS
        self.cooldown_seconds = cooldown_seconds or settings.LLM_BREAKER_COOLDOWN_SECONDS

    def _key(self, part: str) -> str:
        return f"{self.name}:{part}"

    def state(self) -> BreakerState:
        redis = get_redis()
        is_open, is_tripped = redis.exists(self._key("open")), redis.exists(self._key("tripped"))
        if is_open:
            return BreakerState.OPEN
        if is_tripped:
            return BreakerState.HALF_OPEN
        return BreakerState.CLOSED

    def allow(self) -> bool:
        """May a call go out now? In half-open only one caller wins the probe."""
        state = self.state()
        if state == BreakerState.CLOSED:
            return True
        if state == BreakerState.OPEN:
            return False
        probe_ttl = int(settings.LLM_TIMEOUT_SECONDS) + 5
        return bool(get_redis().set(self._key("probe"), "1", nx=True, ex=probe_ttl))

    def record_success(self) -> None:
        get_redis().delete(self._key("failures"), self._key("tripped"), self._key("probe"))

    def record_failure(self) -> None:
        redis = get_redis()
        if redis.exists(self._key("tripped")):
            # A failed half-open probe (or a late failure): open again for a full cool-down.
            self._open()
            return
        pipe = redis.pipeline()
        pipe.incr(self._key("failures"))
        pipe.expire(self._key("failures"), self.window_seconds, nx=True)
        count, _ = pipe.execute()
        if int(count) >= self.failures:
            self._open()
            logger.warning("LLM circuit breaker opened", extra={"failures": int(count)})

    def _open(self) -> None:
        pipe = get_redis().pipeline()
        pipe.set(self._key("open"), "1", ex=self.cooldown_seconds)
        pipe.set(self._key("tripped"), "1")
        pipe.delete(self._key("failures"), self._key("probe"))
        pipe.execute()


def breaker() -> CircuitBreaker:
    return CircuitBreaker()


# --- usage ------------------------------------------------------------------------------------


def record_usage(
    workspace: Workspace, *, prompt_tokens: int = 0, completion_tokens: int = 0, failed: bool
) -> None:
    """Add one request to the workspace's LLMUsage row of today (atomic upsert with F())."""
    day = timezone.localdate()
    changes = {
        "requests": F("requests") + 1,
        "prompt_tokens": F("prompt_tokens") + prompt_tokens,
        "completion_tokens": F("completion_tokens") + completion_tokens,
        "failures": F("failures") + (1 if failed else 0),
    }
    rows = LLMUsage.objects.for_workspace(workspace).filter(day=day)
    if rows.update(**changes):
        return
    try:
        with transaction.atomic():
            LLMUsage.objects.create(
                workspace=workspace,
                day=day,
                requests=1,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                failures=1 if failed else 0,
            )
    except IntegrityError:
        # Another worker created today's row between our UPDATE and INSERT.
        rows.update(**changes)


# --- the call ---------------------------------------------------------------------------------


def build_messages(inp: AnalysisInput, *, avoid: str = "") -> list[dict[str, str]]:
    lines = [
        f"Маркетплейс: {inp.marketplace}",
        f"Канал: {inp.channel}",
    ]
    if inp.rating is not None:
        lines.append(f"Оценка: {inp.rating} из 5")
    if inp.customer_name:
        lines.append(f"Имя покупателя: {inp.customer_name}")
    if inp.product_name:
        lines.append(f"Товар: {inp.product_name}")
    characteristics = inp.product_card.get("characteristics") if inp.product_card else None
    if characteristics:
        lines.append(
            "Характеристики товара: " + json.dumps(characteristics, ensure_ascii=False)[:1500]
        )
    lines.append(f"Текст: {inp.text}")
    if inp.follow_up:
        lines.append(f"Последний ответ продавца: {inp.last_reply}")
        lines.append(f"Покупатель написал после него (на это и отвечай): {inp.follow_up}")
    if inp.pros:
        lines.append(f"Достоинства: {inp.pros}")
    if inp.cons:
        lines.append(f"Недостатки: {inp.cons}")
    if inp.seed:
        lines.append(f"Вариант формулировки ответа: {inp.seed}")
    if avoid:
        lines.append(f"Ответ должен заметно отличаться от этого: {avoid}")
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "\n".join(lines)},
    ]


def parse_analysis(content: str) -> Analysis:
    """Strictly validate the model's JSON answer; anything off raises `LLMMalformed`."""
    text = content.strip()
    if text.startswith("```"):
        # Some OpenAI-compatible servers fence JSON even in JSON mode.
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise LLMMalformed("not JSON") from exc
    errors = sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.path))
    if errors:
        raise LLMMalformed(errors[0].message[:200])
    draft, summary = data["draft"].strip(), data["summary"].strip()
    if not draft or not summary:
        raise LLMMalformed("empty draft or summary")
    return Analysis(
        sentiment=data["sentiment"],
        intent=data["intent"],
        priority=data["priority"],
        priority_reasons=(),
        needs_response=data["needs_response"],
        summary=summary,
        draft=draft,
        engine=ENGINE,
    )


def complete(inp: AnalysisInput, *, avoid: str = "") -> Completion:
    """One chat-completions call; raises the `LLMError` family, records nothing."""
    if not settings.LLM_BASE_URL or not settings.LLM_MODEL:
        raise LLMNotConfigured("LLM_BASE_URL / LLM_MODEL unset")
    headers = {"Authorization": f"Bearer {settings.LLM_API_KEY}"} if settings.LLM_API_KEY else {}
    body = {
        "model": settings.LLM_MODEL,
        "messages": build_messages(inp, avoid=avoid),
        "response_format": {"type": "json_object"},
        "temperature": 0.7,
        "max_tokens": 700,
    }
    url = settings.LLM_BASE_URL.rstrip("/") + "/chat/completions"
    try:
        response = get_client().post(
            url, json=body, headers=headers, timeout=settings.LLM_TIMEOUT_SECONDS
        )
    except httpx.TimeoutException as exc:
        raise LLMTimeout("timeout") from exc
    except httpx.HTTPError as exc:
        raise LLMUnavailable(type(exc).__name__) from exc
    if response.status_code != 200:
        raise LLMUnavailable(f"HTTP {response.status_code}")
    try:
        payload = response.json()
        content = payload["choices"][0]["message"]["content"]
        usage = payload.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LLMMalformed("bad envelope") from exc
    if not isinstance(content, str):
        raise LLMMalformed("content is not a string")
    try:
        analysis = parse_analysis(content)
    except LLMMalformed as exc:
        raise LLMMalformed(
            str(exc), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        ) from exc
    return Completion(analysis, prompt_tokens, completion_tokens)


def analyze_with_llm(
    inp: AnalysisInput, *, workspace: Workspace, avoid: str = "", account_id: int | None = None
) -> Analysis:
    """Call the LLM through the breaker and record usage; raises `LLMError` on any failure."""
    circuit = breaker()
    if not circuit.allow():
        raise LLMCircuitOpen("open")
    started = time.monotonic()
    try:
        completion = complete(inp, avoid=avoid)
    except LLMError as exc:
        circuit.record_failure()
        if not isinstance(exc, LLMNotConfigured):
            record_usage(
                workspace,
                prompt_tokens=exc.prompt_tokens,
                completion_tokens=exc.completion_tokens,
                failed=True,
            )
        logger.warning(
            "LLM analysis failed",
            extra={
                "workspace_id": workspace.pk,
                "account_id": account_id,
                "reason": exc.reason,
                "duration_ms": int((time.monotonic() - started) * 1000),
            },
        )
        raise
    circuit.record_success()
    record_usage(
        workspace,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        failed=False,
    )
    logger.info(
        "LLM analysis done",
        extra={
            "workspace_id": workspace.pk,
            "account_id": account_id,
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
            "duration_ms": int((time.monotonic() - started) * 1000),
        },
    )
    return completion.analysis


def analyze_with_fallback(
    inp: AnalysisInput, *, workspace: Workspace, avoid: str = "", account_id: int | None = None
) -> FallbackResult:
    """The LLM's analysis, or the rules engine's when the LLM times out, fails or is open.

    An item the rules find urgent (harm to health, a fire or shock hazard, legal action)
    stays urgent, with the rules' reasons, and awaits an answer, whatever the model said.
    """
    try:
        analysis = analyze_with_llm(inp, workspace=workspace, avoid=avoid, account_id=account_id)
    except LLMError as exc:
        return FallbackResult(analyze_text(inp), fallback_reason=exc.reason)
    if analysis.priority != Priority.URGENT:
        rules = analyze_text(inp)
        if rules.priority == Priority.URGENT:
            analysis = replace(
                analysis,
                priority=rules.priority,
                priority_reasons=rules.priority_reasons,
                needs_response=True,
            )
    return FallbackResult(analysis)
