"""Failures of marketplace calls, mapped from HTTP (raw httpx errors never reach services)."""

from django.utils.translation import gettext_lazy as _

from agentiq.errors import DomainError


class MarketplaceError(DomainError):
    code = "marketplace_error"
    message = _("The marketplace answered with an error.")


class TransientMarketplaceError(MarketplaceError):
    """Worth retrying later: timeouts, connection errors, 5xx."""

    code = "marketplace_unavailable"
    message = _("The marketplace is temporarily unavailable.")


class RateLimited(TransientMarketplaceError):
    """429 (or our own shared budget is exhausted): retry after `retry_after` seconds."""

    code = "rate_limited"
    message = _("The marketplace's request limit is reached; the sync will continue shortly.")

    def __init__(self, retry_after: float = 1.0, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthError(MarketplaceError):
    """401/403: the credentials are wrong, expired, revoked or lack a scope. Not retried."""

    code = "auth_error"
    message = _("The marketplace rejected the credentials. Check the token and its access rights.")


class SubscriptionRequired(MarketplaceError):
    """The method needs a marketplace subscription the seller does not have (Ozon)."""

    code = "subscription_required"
    message = _("This channel needs a marketplace subscription.")


class MalformedResponse(MarketplaceError):
    """The response is not what the contract promises (a whole page, not one item)."""

    code = "malformed_response"
    message = _("The marketplace sent a response that could not be read.")


class PublishRejected(MarketplaceError):
    """The marketplace refused this answer (already answered, too long, item unknown …)."""

    code = "publish_rejected"
    message = _("The marketplace refused the answer.")


class AnswerNotReadable(MarketplaceError):
    """The marketplace offers no way to read this answer back (e.g. one WB chat message)."""

    code = "answer_not_readable"
    message = _("The marketplace cannot show this answer back.")
