"""First full sync of one big account into PostgreSQL; prints ONE JSON object.

    .venv/bin/python bench/ingest.py [--marketplace wb|ozon] [--reviews 100000
        --questions 20000 --chats 5000]

Uses its own database (BENCH_DATABASE_URL, default postgres:///agentiq_bench, dropped and
re-created) and Redis db (BENCH_REDIS_URL, default redis://127.0.0.1:6379/9, flushed), with
DEBUG off. The simulator runs as a subprocess, limits off (and so are our client-side limits:
the real APIs' limits would cap any pipeline far below these rates). Measured in this process
(the "worker"): the whole `sync_account` — HTTP, parsing, upserts, events, links, SLA,
cursors — then a second sync with nothing new. Baseline: the same interaction rows written by
raw psycopg COPY into a staging table plus one INSERT … ON CONFLICT into a scratch table with
the same indexes, generated search column and constraints (the ratio's baseline), and for
comparison into a plain scratch table with only the conflict key.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import (
    free_port,
    fresh_database,
    peak_rss_mb,
    production_like,
    start_simulator,
)

production_like(
    database_url=os.environ.get("BENCH_DATABASE_URL", "postgres:///agentiq_bench"),
    redis_url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
    simulator_limits=False,
)


def raw_baseline(account_id: int, *, like_ours: bool = True) -> float:
    """Rows/s of COPY + upsert of the synced interaction rows into a scratch table: like the
    interaction table (indexes, generated search column, constraints) or, if not
    `like_ours`, a plain table with only the unique key that the upsert needs."""
    from django.db import connection

    from inbox.models import Interaction

    table = Interaction._meta.db_table
    columns = [
        f.column
        for f in Interaction._meta.concrete_fields
        if f.column != "id"  # the scratch table numbers its own rows
    ]
    column_list = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column_list} FROM {table} WHERE account_id = %s", [account_id])  # noqa: S608
        rows = cursor.fetchall()
    raw = connection.connection
    with raw.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_scratch")
        if like_ours:
            cur.execute(f"CREATE TABLE bench_scratch (LIKE {table} INCLUDING ALL)")
        else:
            cur.execute(
                f"CREATE TABLE bench_scratch (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY)"
            )
            cur.execute("ALTER TABLE bench_scratch ADD UNIQUE (account_id, channel, external_id)")
        raw.commit()
        started = time.perf_counter()
        cur.execute(f"CREATE TEMP TABLE bench_stage (LIKE {table})")
        cur.execute("ALTER TABLE bench_stage DROP COLUMN id")
        with cur.copy(f"COPY bench_stage ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        updates = ", ".join(
            f"{c} = EXCLUDED.{c}"
            for c in columns
            if c not in ("account_id", "channel", "external_id")
        )
        cur.execute(
            f"INSERT INTO bench_scratch ({column_list}) SELECT {column_list} FROM bench_stage "  # noqa: S608
            f"ON CONFLICT (account_id, channel, external_id) DO UPDATE SET {updates}"
        )
        raw.commit()
        elapsed = time.perf_counter() - started
        cur.execute("DROP TABLE bench_scratch, bench_stage")
        raw.commit()
    return len(rows) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--marketplace", choices=("wb", "ozon"), default="wb")
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=20_000)
    parser.add_argument("--chats", type=int, default=5_000)
    args = parser.parse_args()

    fresh_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from agentiq.redis import get_redis
    from connectors.simulator.client import SimulatorClient
    from connectors.sync import sync_account
    from inbox.models import Interaction, Message
    from inbox.services.ingest import IngestResult
    from tests.factories import make_account, make_workspace

    get_redis().flushdb()
    port = free_port()
    simulator_process = start_simulator(port)
    try:
        sim = SimulatorClient(f"http://127.0.0.1:{port}", timeout=600)
        sizes = {"reviews": args.reviews, "questions": args.questions, "chats": args.chats}
        credentials: dict[str, str]
        if args.marketplace == "ozon":
            ozon = sim.create_ozon_account(**sizes, limits=False)
            sim_account, credentials = (
                ozon.account_id,
                {"client_id": ozon.client_id, "api_key": ozon.api_key},
            )
        else:
            wb = sim.create_wb_account(**sizes, limits=False)
            sim_account, credentials = wb.account_id, {"token": wb.token}
        workspace = make_workspace(name="Бенчмарк")
        account = make_account(
            workspace=workspace,
            marketplace=args.marketplace,
            credentials=credentials,
            base_url=sim.url,
        )
        rss_before = peak_rss_mb()
        # Wall time per channel (pages arrive in channel order), from the progress callback.
        channel_seconds: dict[str, float] = {}
        channel_items: dict[str, int] = {}
        mark = [time.perf_counter()]

        def progress(channel: str, result: IngestResult) -> None:
            now = time.perf_counter()
            channel_seconds[channel] = channel_seconds.get(channel, 0.0) + now - mark[0]
            channel_items[channel] = channel_items.get(channel, 0) + result.created
            mark[0] = now

        started, cpu_started = time.perf_counter(), time.process_time()
        psutil.cpu_percent()  # starts the machine-wide busy share
        simulator = psutil.Process(simulator_process.pid)
        simulator_cpu = sum(simulator.cpu_times()[:2])
        first = sync_account(account.pk, progress=progress)
        first_seconds = time.perf_counter() - started
        first_cpu_seconds = time.process_time() - cpu_started
        busy_share = psutil.cpu_percent() / 100
        machine_busy = busy_share * first_seconds * (psutil.cpu_count() or 1)
        simulator_cpu = sum(simulator.cpu_times()[:2]) - simulator_cpu
        rss_peak = peak_rss_mb()
        interactions = Interaction.objects.filter(account=account).count()
        messages = Message.objects.filter(interaction__account=account).count()
        truth = sim.truth(sim_account)
        expected = truth["reviews"]["total"] + truth["questions"]["total"] + truth["chats"]["total"]

        started = time.perf_counter()
        second = sync_account(account.pk)
        second_seconds = time.perf_counter() - started

        raw_rate = raw_baseline(account.pk)
        plain_rate = raw_baseline(account.pk, like_ours=False)
        ours_rate = interactions / first_seconds
        print(
            json.dumps(
                {
                    "benchmark": "ingest_first_sync",
                    "marketplace": args.marketplace,
                    "reviews": args.reviews,
                    "questions": args.questions,
                    "chats": args.chats,
                    "interactions": interactions,
                    "matches_ground_truth": interactions == expected,
                    "messages": messages,
                    "first_sync_status": first.status,
                    "first_sync_seconds": round(first_seconds, 2),
                    # CPU time of this process (all its threads) during the first sync
                    "first_sync_worker_cpu_seconds": round(first_cpu_seconds, 2),
                    "first_sync_simulator_cpu_seconds": round(simulator_cpu, 2),
                    # Every other process, mostly PostgreSQL's backend
                    "first_sync_other_cpu_seconds": round(
                        machine_busy - first_cpu_seconds - simulator_cpu, 2
                    ),
                    # Share of all cores busy during the first sync (1.0: none idle)
                    "first_sync_machine_busy_share": round(busy_share, 3),
                    "pages": first.pages,
                    "interactions_per_second": round(ours_rate),
                    "per_channel": {
                        channel: {
                            "created": channel_items[channel],
                            "seconds": round(seconds, 2),
                            "per_second": round(channel_items[channel] / seconds)
                            if seconds
                            else None,
                        }
                        for channel, seconds in channel_seconds.items()
                    },
                    "target_interactions_per_second": 10_000,
                    "worker_rss_mb_before_sync": rss_before,
                    "worker_peak_rss_mb": rss_peak,
                    "target_peak_rss_mb": 250,
                    "raw_copy_upsert_rows_per_second": round(raw_rate),
                    "ratio_ours_to_raw": round(ours_rate / raw_rate, 3),
                    "target_ratio": 0.25,
                    "raw_plain_table_rows_per_second": round(plain_rate),
                    "ratio_ours_to_raw_plain_table": round(ours_rate / plain_rate, 3),
                    "second_sync_status": second.status,
                    "second_sync_created": second.created,
                    "second_sync_seconds": round(second_seconds, 2),
                    "target_second_sync_seconds": 2,
                },
                ensure_ascii=False,
            )
        )
    finally:
        simulator_process.terminate()
        simulator_process.wait(timeout=10)


if __name__ == "__main__":
    main()
