"""Token buckets in Redis, shared by every process and worker that calls a marketplace.

One bucket per (account, category): WB limits are per seller account and per API category, so
two workers syncing reviews and questions of one account draw from the same "feedbacks" bucket.
Refill and take happen in one Lua script (atomic in Redis), with Redis' own clock, so processes
on several machines agree on time. When a marketplace answers 429 anyway, its retry-after is
recorded on the bucket and every process waits it out — nothing here lives in process memory.
"""

import logging
import random
import time
from dataclasses import dataclass

from agentiq.redis import get_redis
from connectors.exceptions import RateLimited

logger = logging.getLogger(__name__)

KEY_PREFIX = "ratelimit"
# A waiter re-checks at least this often, so a bucket refilled early (by a 429 expiring) is used.
MAX_SLEEP_SECONDS = 1.0

# KEYS[1] bucket hash {tokens, ts, blocked_until}; ARGV rate (tokens/s), burst.
# Returns the seconds to wait as a string ("0" = a token was taken); Lua numbers would be
# truncated to integers on the way back.
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'blocked_until')
local tokens = tonumber(data[1]) or burst
local ts = tonumber(data[2]) or now
local blocked_until = tonumber(data[3]) or 0
if blocked_until > now then
  return tostring(blocked_until - now)
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""

# KEYS[1] bucket hash; ARGV retry-after seconds. Blocks the bucket until then; at that moment it
# holds exactly one token (the marketplace lets the next attempt through after its retry-after).
_BLOCK_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_at = now + tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'blocked_until')) or 0
if until_at > current then
  redis.call('HSET', KEYS[1], 'blocked_until', tostring(until_at), 'tokens', '1', 'ts', tostring(until_at))
end
local ttl = redis.call('TTL', KEYS[1])
local wanted = math.ceil(tonumber(ARGV[1])) + 60
if ttl < wanted then
  redis.call('EXPIRE', KEYS[1], wanted)
end
return tostring(math.max(until_at, current) - now)
"""


@dataclass(frozen=True, slots=True)
class Limit:
    """`burst` requests at once, refilled at `rate` requests per second."""

    rate: float
    burst: int

    @classmethod
    def per(cls, requests: float, seconds: float, *, burst: int) -> "Limit":
        return cls(rate=requests / seconds, burst=burst)


def bucket_key(account_id: object, bucket: str) -> str:
    return f"{KEY_PREFIX}:{account_id}:{bucket}"


def try_acquire(account_id: object, bucket: str, rate: float, burst: int) -> float:
    """Take one token if there is one: 0.0, else the seconds until one is due (nothing taken)."""
    if rate <= 0 or burst < 1:
        raise ValueError("a bucket needs a positive rate and a burst of at least 1")
    result = get_redis().eval(_ACQUIRE_LUA, 1, bucket_key(account_id, bucket), rate, burst)
    return float(result)


def acquire(account_id: object, bucket: str, rate: float, burst: int, *, max_wait: float) -> None:
    """Take one token, sleeping up to `max_wait` seconds for it; else raise `RateLimited`.

    Gives up at once when the wait already known exceeds what is left of `max_wait`, so a job
    with a slow (Base token) bucket is rescheduled instead of holding a worker for an hour.
    """
    deadline = time.monotonic() + max_wait
    while True:
        wait = try_acquire(account_id, bucket, rate, burst)
        if wait <= 0:
            return
        left = deadline - time.monotonic()
        if wait > left:
            logger.info(
                "rate limit budget exhausted",
                extra={"account_id": account_id, "bucket": bucket, "retry_after": round(wait, 3)},
            )
            raise RateLimited(retry_after=wait)
        # A little jitter, so waiters of one bucket do not all wake in the same millisecond.
        time.sleep(min(wait, MAX_SLEEP_SECONDS) + random.uniform(0, 0.01))


def block(account_id: object, bucket: str, seconds: float) -> float:
    """Record a marketplace's retry-after: no process takes from this bucket for `seconds`.

    Returns the seconds the bucket is now blocked for (an earlier, longer block is kept).
    """
    seconds = max(0.0, float(seconds))
    result = get_redis().eval(_BLOCK_LUA, 1, bucket_key(account_id, bucket), seconds)
    logger.warning(
        "marketplace rate limit hit, bucket blocked",
        extra={"account_id": account_id, "bucket": bucket, "retry_after": seconds},
    )
    return float(result)
