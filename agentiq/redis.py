"""The process-wide Redis client for locks, rate limits, breakers and RQ (one pool per URL)."""

from functools import cache

import django_rq
import redis
from django.conf import settings
from rq import Queue


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
    )


def get_redis() -> redis.Redis:
    return _client(settings.REDIS_URL)


def get_queue(name: str) -> Queue:
    """An RQ queue on the shared client (`django_rq.get_queue` alone opens a new connection
    pool, hence a new TCP connection, on every call)."""
    return django_rq.get_queue(name, connection=get_redis())
