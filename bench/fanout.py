"""Many small accounts, one worker: accounts synced per second; prints ONE JSON object.

    .venv/bin/python bench/fanout.py [--accounts 1000]

Own database (BENCH_FANOUT_DATABASE_URL, default postgres:///agentiq_bench_fanout, re-created)
and Redis db (BENCH_FANOUT_REDIS_URL, default redis://127.0.0.1:6379/10, flushed); the
simulator runs as a subprocess, limits off. Every account is synced once first (untimed), then
gets 0-3 new items; the timed part is the dispatcher job plus ONE burst worker (rq
SimpleWorker) draining the "sync" queue.
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import (
    free_port,
    fresh_database,
    production_like,
    start_simulator,
)

production_like(
    database_url=os.environ.get("BENCH_FANOUT_DATABASE_URL", "postgres:///agentiq_bench_fanout"),
    redis_url=os.environ.get("BENCH_FANOUT_REDIS_URL", "redis://127.0.0.1:6379/10"),
    simulator_limits=False,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args()

    fresh_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    import logging

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    logging.disable(logging.INFO)

    import django_rq
    from rq import SimpleWorker

    from agentiq.redis import get_redis
    from connectors.jobs import dispatch_due_syncs_job
    from connectors.simulator.client import SimulatorClient
    from connectors.sync import sync_account
    from inbox.models import Interaction, MarketplaceAccount
    from tests.factories import make_workspace

    get_redis().flushdb()
    port = free_port()
    simulator_process = start_simulator(port)
    rng = random.Random(7)
    try:
        sim = SimulatorClient(f"http://127.0.0.1:{port}", timeout=600)
        workspace = make_workspace(name="Бенчмарк fan-out")
        handles = [
            sim.create_wb_account(reviews=0, questions=0, chats=0, limits=False)
            for _ in range(args.accounts)
        ]
        accounts = MarketplaceAccount.objects.bulk_create(
            MarketplaceAccount(
                workspace=workspace,
                marketplace="wb",
                name=f"Магазин {n}",
                credentials={"token": handle.token},
                base_url=sim.url,
                enabled_channels=["review", "question", "chat"],
            )
            for n, handle in enumerate(handles)
        )
        for account in accounts:  # the first sync, untimed
            sync_account(account.pk)
        new_items = 0
        for handle in handles:
            n = rng.randint(0, 3)
            if n:
                kinds = [rng.choice(("reviews", "questions")) for _ in range(n)]
                counts = {kind: kinds.count(kind) for kind in set(kinds)}
                sim.generate(handle.account_id, **counts)
                new_items += n
        before = Interaction.objects.count()
        MarketplaceAccount.objects.update(next_sync_at=None)
        queue = django_rq.get_queue("sync")

        started = time.perf_counter()
        enqueued = dispatch_due_syncs_job()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        seconds = time.perf_counter() - started

        synced = MarketplaceAccount.objects.filter(sync_status="ok").count()
        print(
            json.dumps(
                {
                    "benchmark": "fanout",
                    "accounts": args.accounts,
                    "accounts_enqueued": enqueued,
                    "accounts_ok": synced,
                    "new_items_generated": new_items,
                    "new_interactions_ingested": Interaction.objects.count() - before,
                    "seconds": round(seconds, 2),
                    "accounts_per_second": round(args.accounts / seconds, 1),
                    "target_accounts_per_second": 50,
                },
                ensure_ascii=False,
            )
        )
    finally:
        simulator_process.terminate()
        simulator_process.wait(timeout=10)


if __name__ == "__main__":
    main()
