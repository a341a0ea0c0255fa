"""Failures of the intelligence app.

`DomainError` subclasses are shown to users; the `LLMError` family is internal: the LLM
client raises it and the analysis service turns it into a rules-engine fallback.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from agentiq.errors import DomainError


class AutoReplyAlreadySent(DomainError):
    code = "auto_reply_already_sent"
    message = _("The auto-reply has already been sent and can no longer be stopped.")


class LLMError(Exception):
    """The LLM gave no usable analysis; `reason` is a short machine-readable cause."""

    reason = "error"

    def __init__(self, detail: str = "", *, prompt_tokens: int = 0, completion_tokens: int = 0):
        super().__init__(detail or self.reason)
        # Tokens are billed even for an answer we reject, so usage still records them.
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens


class LLMUnavailable(LLMError):
    """Timeout, transport error or a non-2xx answer."""

    reason = "unavailable"


class LLMTimeout(LLMUnavailable):
    reason = "timeout"


class LLMMalformed(LLMError):
    """The answer was not JSON, or broke the schema (missing field, unknown enum value)."""

    reason = "malformed"


class LLMCircuitOpen(LLMError):
    """The shared breaker is open: the LLM is not called at all until the cool-down ends."""

    reason = "circuit_open"


class LLMNotConfigured(LLMError):
    reason = "not_configured"


class ReplyBlockedByGuardrail(DomainError):
    """A guardrail rule with `block` severity matched; `findings` say which and where."""

    code = "guardrail_blocked"
    message = _("The reply was not published: it breaks a guardrail rule.")

    def __init__(self, findings: tuple[Any, ...] = ()) -> None:
        super().__init__()
        self.findings = findings
