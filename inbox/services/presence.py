"""Who is looking at (or typing in) an interaction right now: short-lived entries in Redis.

One hash per interaction, `presence:<workspace>:<interaction>`, field = user id, value =
"<unix time>|<typing 0/1>|<display name>". The key expires shortly after the last heartbeat;
entries older than `PRESENCE_TTL_SECONDS` are ignored (hash fields cannot expire one by one).
"""

import time
from dataclasses import dataclass
from typing import cast

from agentiq.redis import get_redis
from inbox.models import Interaction, User

PRESENCE_TTL_SECONDS = 15


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: int
    name: str
    is_typing: bool


def _key(interaction: Interaction) -> str:
    return f"presence:{interaction.workspace_id}:{interaction.pk}"


def touch_presence(
    interaction: Interaction, *, user: User, is_typing: bool, at: float | None = None
) -> None:
    """Record that `user` has the interaction open (and whether they are typing)."""
    at = time.time() if at is None else at
    name = user.get_full_name().replace("|", " ")
    redis = get_redis()
    pipe = redis.pipeline()
    pipe.hset(_key(interaction), str(user.pk), f"{at:.0f}|{int(is_typing)}|{name}")
    pipe.expire(_key(interaction), PRESENCE_TTL_SECONDS)
    pipe.execute()


def leave_presence(interaction: Interaction, *, user: User) -> None:
    get_redis().hdel(_key(interaction), str(user.pk))


def interaction_viewers(
    interaction: Interaction, *, exclude: User | None = None, at: float | None = None
) -> list[Viewer]:
    """Other members seen on the interaction within the TTL, typing ones first."""
    at = time.time() if at is None else at
    viewers = []
    # The client is built without decode_responses, so keys and values are bytes.
    entries = cast("dict[bytes, bytes]", get_redis().hgetall(_key(interaction)))
    for raw_id, raw in entries.items():
        user_id = int(raw_id)
        seen, typing, name = raw.decode().split("|", 2)
        if exclude is not None and user_id == exclude.pk:
            continue
        if at - float(seen) > PRESENCE_TTL_SECONDS:
            continue
        viewers.append(Viewer(user_id=user_id, name=name, is_typing=typing == "1"))
    return sorted(viewers, key=lambda v: (not v.is_typing, v.name))
