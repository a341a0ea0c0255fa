import multiprocessing
import time

import pytest

from connectors import ratelimit
from connectors.exceptions import RateLimited


def test_acquire_takes_the_burst_at_once_then_paces_at_the_rate() -> None:
    started = time.monotonic()
    for _ in range(3):
        ratelimit.acquire("acc-1", "feedbacks", 4.0, 3, max_wait=5)
    burst_done = time.monotonic()
    ratelimit.acquire("acc-1", "feedbacks", 4.0, 3, max_wait=5)
    finished = time.monotonic()

    assert burst_done - started < 0.5
    assert finished - burst_done >= 0.2


def test_acquire_raises_rate_limited_when_the_wait_exceeds_max_wait() -> None:
    ratelimit.acquire("acc-1", "feedbacks", 5 / 3600, 1, max_wait=1)

    with pytest.raises(RateLimited) as raised:
        ratelimit.acquire("acc-1", "feedbacks", 5 / 3600, 1, max_wait=1)

    assert 700 < raised.value.retry_after <= 720


def test_buckets_are_separate_per_account_and_per_category() -> None:
    ratelimit.acquire("acc-1", "feedbacks", 1 / 3600, 1, max_wait=0)

    waits = [
        ratelimit.try_acquire("acc-1", "feedbacks", 1 / 3600, 1),
        ratelimit.try_acquire("acc-2", "feedbacks", 1 / 3600, 1),
        ratelimit.try_acquire("acc-1", "chat", 1 / 3600, 1),
    ]

    assert waits[0] > 3500
    assert waits[1:] == [0.0, 0.0]


def test_block_makes_the_bucket_wait_then_lets_one_request_through() -> None:
    ratelimit.block("acc-1", "chat", 0.5)

    wait_during_block = ratelimit.try_acquire("acc-1", "chat", 1.0, 10)
    time.sleep(0.55)
    wait_after_block = ratelimit.try_acquire("acc-1", "chat", 1.0, 10)

    assert 0.2 < wait_during_block <= 0.5
    assert wait_after_block == 0.0


def test_a_shorter_block_does_not_shorten_a_longer_one() -> None:
    ratelimit.block("acc-1", "chat", 5)
    ratelimit.block("acc-1", "chat", 1)

    assert ratelimit.try_acquire("acc-1", "chat", 1.0, 10) > 4


def _acquire_many(account_id: str, count: int, rate: float, burst: int, queue: object) -> None:
    stamps = []
    for _ in range(count):
        ratelimit.acquire(account_id, "feedbacks", rate, burst, max_wait=30)
        stamps.append(time.time())
    queue.put(stamps)  # type: ignore[attr-defined]


def test_processes_sharing_a_bucket_never_exceed_its_rate() -> None:
    rate, burst, workers, per_worker = 20.0, 5, 4, 10
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [
        context.Process(target=_acquire_many, args=("acc-shared", per_worker, rate, burst, queue))
        for _ in range(workers)
    ]

    for process in processes:
        process.start()
    stamps = sorted(stamp for _ in processes for stamp in queue.get(timeout=30))
    for process in processes:
        process.join(timeout=10)

    assert [process.exitcode for process in processes] == [0] * workers
    assert len(stamps) == workers * per_worker
    # Token bucket guarantee: any n consecutive grants span at least (n - burst) / rate seconds
    # (slack for the scheduling delay between a grant and its stamp in another process).
    for first in range(len(stamps)):
        for last in range(first + burst, len(stamps)):
            granted = last - first + 1
            assert stamps[last] - stamps[first] >= (granted - burst) / rate - 0.1
    assert stamps[-1] - stamps[0] >= (workers * per_worker - burst) / rate - 0.1
