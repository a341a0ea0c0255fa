"""WB request limits per token type (specs/README.md, "Rate limits"), as shared Redis buckets.

Bucket names: "feedbacks" (reviews and questions share it), "chat", "content",
"ping:<host>" (one per host), "common" (common-api seller info).
"""

from connectors.http import Budget
from connectors.ratelimit import Limit
from connectors.wb.token import TokenType

FEEDBACKS = "feedbacks"
CHAT = "chat"
CONTENT = "content"
COMMON = "common"

# WB counts requests when they arrive, we when they leave: network jitter can bunch two
# requests together. Keeping 10 % under the rate and one under the burst leaves room for it.
HEADROOM = 0.9

FULL_LIMITS: dict[str, Limit] = {
    FEEDBACKS: Limit.per(3 * HEADROOM, 1.0, burst=6 - 1),
    CHAT: Limit.per(10 * HEADROOM, 10.0, burst=10 - 1),
}
# A Base token without a secret: usable, but far too slow for a live inbox.
BASE_LIMITS: dict[str, Limit] = {
    FEEDBACKS: Limit.per(5, 3600.0, burst=1),
    CHAT: Limit.per(1, 3600.0, burst=1),
}
SHARED_LIMITS: dict[str, Limit] = {
    CONTENT: Limit.per(100, 60.0, burst=5),
    COMMON: Limit.per(1, 60.0, burst=10),
}
PING_LIMIT = Limit.per(3, 30.0, burst=3)


def budget_for(bucket: str, token_type: TokenType) -> Budget:
    """The bucket and its limit for a token of this type ("ping:<host>" for pings)."""
    if bucket.startswith("ping:"):
        return Budget(bucket, PING_LIMIT)
    table = BASE_LIMITS if token_type is TokenType.BASE else FULL_LIMITS
    limit = table.get(bucket) or SHARED_LIMITS[bucket]
    return Budget(bucket, limit)
