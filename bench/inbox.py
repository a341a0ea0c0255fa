"""Benchmark the inbox pages on a big PostgreSQL database: list, deep page, search, conversation.

Run: .venv/bin/python bench/inbox.py [--interactions-per-workspace N] [--workspaces K] [--rebuild]
Prints one JSON object.

Own database (BENCH_INBOX_DATABASE_URL, default postgres:///agentiq_bench_inbox), created when
missing and migrated. K workspaces of N interactions each are generated with server-side SQL
(INSERT ... SELECT FROM generate_series; secondary indexes dropped during the load and rebuilt
after, FK triggers off), then ANALYZEd. The first workspace is the measured one; the others are
neighbours that make the tables (and the GIN index) K times bigger. Generation is skipped when
the database already holds a complete dataset of the requested sizes (--rebuild forces it).

Server time is measured with Django's test Client (DEBUG off, logged in once as a member of the
measured workspace): time.perf_counter around each request, 10 warm-up + 200 measured requests
per scenario, p50/p95 in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import production_like  # noqa: E402 - after the path is set

DEFAULT_DB_URL = "postgres:///agentiq_bench_inbox"
# Fixed keys (bench.common): a resumed run must decrypt the account credentials it stored before.

PRODUCTS_PER_ACCOUNT = 2000
MEMBERS_PER_WORKSPACE = 6
TEXT_POOL = 20000
SAMPLED_CONVERSATIONS = 200
SEARCH_WORD = "размер"
SEARCH_RATING = 2
TARGETS_MS = {
    "inbox_first_page": 50,
    "inbox_deep_page": 50,
    "inbox_search": 150,
    "conversation": 50,
    "conversation_full_page": 50,
}
# The deep page starts this many rows into the list (whatever the page size).
DEEP_ROWS = 2500

# --- Russian texts from a small vocabulary ------------------------------------------------------

OPENERS = ["Заказала", "Купила", "Взяли", "Пришёл", "Получила", "Брала", "Заказывал", "Купил"]
ITEMS = [
    "футболку", "платье", "куртку", "кроссовки", "джинсы", "худи", "рубашку", "пальто",
    "свитер", "юбку", "сумку", "шапку", "носки", "брюки", "пижаму", "костюм",
]  # fmt: skip
GOOD = [
    "качество отличное", "ткань приятная", "сидит идеально", "цвет как на фото",
    "доставка быстрая", "упаковано аккуратно", "швы ровные", "материал плотный",
    "размер подошёл", "очень мягкая", "рекомендую продавца", "цена отличная",
    "ребёнку понравилось", "буду заказывать ещё", "смотрится дорого", "не линяет после стирки",
]  # fmt: skip
BAD = [
    "размер маломерит", "размер большемерит", "пришёл брак", "торчат нитки",
    "цвет не соответствует", "запах химии", "ткань тонкая", "шов разошёлся",
    "упаковка порвана", "доставка долгая", "прислали не тот размер", "нет в комплекте пояса",
    "катышки после стирки", "молния сломалась", "качество ужасное", "верну обратно",
]  # fmt: skip
FILLER = [
    "в целом", "честно говоря", "к сожалению", "как и ожидала", "за свои деньги",
    "по сравнению с прошлым", "после первой стирки", "на рост 170", "на подарок",
    "уже второй раз", "если честно", "на каждый день",
]  # fmt: skip
QUESTIONS = [
    "Подскажите, какой размер взять на рост 165?", "Есть ли этот цвет в наличии?",
    "Из какого материала сделана подкладка?", "Когда будет поставка размера M?",
    "Маломерит или соответствует размеру?", "Можно ли стирать в машинке?",
    "Какая длина изделия в размере L?", "Есть ли утеплитель?",
]  # fmt: skip
CHAT_LINES = [
    "Здравствуйте, заказ не пришёл", "Хочу вернуть товар, размер не подошёл",
    "Пришёл брак, что делать?", "Можно поменять размер?", "Когда отправите заказ?",
    "Спасибо, всё получила", "Где мой возврат денег?", "Курьер не приехал",
]  # fmt: skip
NAMES = [
    "Анна", "Мария", "Елена", "Ольга", "Наталья", "Ирина", "Светлана", "Татьяна", "Юлия",
    "Екатерина", "Дмитрий", "Алексей", "Сергей", "Андрей", "Иван", "Покупатель",
]  # fmt: skip


def _text_pool(n: int, seed: int = 42) -> list[tuple[int, str, str, str, str]]:
    """(i, review text, pros, cons, question/chat text): texts with a Russian vocabulary."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        positive = rnd.random() < 0.6
        phrases = rnd.sample(GOOD if positive else BAD, k=rnd.randint(1, 3))
        if rnd.random() < 0.3:
            phrases.append(rnd.choice(BAD if positive else GOOD))
        words = [rnd.choice(OPENERS), rnd.choice(ITEMS) + ",", rnd.choice(FILLER) + ","]
        text = " ".join(words) + " " + ", ".join(phrases) + "."
        if rnd.random() < 0.25:
            text = ""  # rating-only review, text in pros/cons
        pros = ", ".join(rnd.sample(GOOD, k=rnd.randint(1, 2))) if rnd.random() < 0.4 else ""
        cons = ", ".join(rnd.sample(BAD, k=rnd.randint(1, 2))) if rnd.random() < 0.3 else ""
        other = rnd.choice(QUESTIONS) if i % 2 else rnd.choice(CHAT_LINES)
        rows.append((i, text, pros, cons, other))
    return rows


# --- environment and database -------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def _log(message: str) -> None:
    print(f"[bench/inbox {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _db_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def _db_exists(name: str) -> bool:
    out = subprocess.run(
        ["psql", "-d", "postgres", "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],  # noqa: S608
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip() == "1"


def _prepare_database(url: str, *, rebuild: bool) -> None:
    name = _db_name(url)
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"unexpected database name {name!r}")
    if rebuild and _db_exists(name):
        _log(f"dropping {name}")
        subprocess.run(["dropdb", "--if-exists", name], check=True)
    if not _db_exists(name):
        _log(f"creating {name}")
        subprocess.run(["createdb", name], check=True)


def _stored_dataset(cursor: Any) -> dict[str, Any] | None:
    cursor.execute("SELECT to_regclass('bench_inbox_meta') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return None
    cursor.execute("SELECT value FROM bench_inbox_meta WHERE key = 'dataset'")
    row = cursor.fetchone()
    if row is None:
        return None
    value = row[0]
    return json.loads(value) if isinstance(value, str) else value


# --- generation ---------------------------------------------------------------------------------

INTERACTION_SQL = """
WITH s AS MATERIALIZED (
    SELECT g,
           now() - ((g - 1)::float8 / %(n)s * 365) * interval '1 day'
                 - random() * interval '20 minutes' AS occ,
           (g - 1)::float8 / %(n)s * 365 AS age_days,
           random() AS r_acc, random() AS r_chan, random() AS r_rating, random() AS r_status,
           random() AS r_prio, random() AS r_prod, random() AS r_cust, random() AS r_name,
           random() AS r_text, random() AS r_asg, random() AS r_misc, random() AS r_resp
    FROM generate_series(1, %(n)s) AS g
), c AS MATERIALIZED (
    SELECT s.*,
           CASE WHEN r_chan < 0.70 THEN 'review' WHEN r_chan < 0.90 THEN 'question'
                ELSE 'chat' END AS channel,
           r_acc < 0.6 AS is_wb,
           CASE WHEN age_days < 3 THEN
                CASE WHEN r_status < 0.45 THEN 'new' WHEN r_status < 0.75 THEN 'open'
                     WHEN r_status < 0.85 THEN 'pending' WHEN r_status < 0.90 THEN 'snoozed'
                     ELSE 'closed' END
                ELSE
                CASE WHEN r_status < 0.970 THEN 'closed' WHEN r_status < 0.985 THEN 'open'
                     WHEN r_status < 0.993 THEN 'pending' WHEN r_status < 0.997 THEN 'snoozed'
                     ELSE 'new' END
           END AS status
    FROM s
), d AS (
    SELECT c.*,
           CASE WHEN channel <> 'review' THEN NULL
                WHEN r_rating < 0.55 THEN 5 WHEN r_rating < 0.70 THEN 4
                WHEN r_rating < 0.80 THEN 3 WHEN r_rating < 0.88 THEN 2 ELSE 1 END AS rating,
           CASE WHEN status = 'closed' OR r_resp < 0.15
                THEN occ + r_resp * interval '30 hours' END AS responded
    FROM c
)
INSERT INTO inbox_interaction (
    workspace_id, account_id, marketplace, channel, external_id, product_id, customer_id,
    customer_name, order_id, rating, text, pros, cons, attachments, status, snoozed_until,
    priority, sentiment, intent, needs_response, sla_deadline_at, reply_window_ends_at,
    first_response_at, assignee_id, occurred_at, last_message_at, unread_count, is_answered,
    answer_editable_until, answer_edits_left, ai_analysis, analyzed_at, draft, extra, closed_at,
    created_at, updated_at
)
SELECT
    %(ws)s,
    CASE WHEN is_wb THEN %(acc_wb)s ELSE %(acc_oz)s END,
    CASE WHEN is_wb THEN 'wb' ELSE 'ozon' END,
    channel,
    %(ws)s || '-' || g,
    CASE WHEN is_wb THEN %(prod_wb)s ELSE %(prod_oz)s END
        + floor(power(r_prod, 1.6) * %(nprod)s)::int,
    %(cust_lo)s + floor(power(r_cust, 2) * %(ncust)s)::int,
    (%(names)s::text[])[1 + floor(r_name * %(nnames)s)::int],
    CASE WHEN channel = 'question' OR r_misc < 0.2 THEN '' ELSE 'ord-' || %(ws)s || '-'
        || (g / 2) END,
    rating,
    CASE WHEN channel = 'review' THEN t.text ELSE t.other END,
    CASE WHEN channel = 'review' THEN t.pros ELSE '' END,
    CASE WHEN channel = 'review' THEN t.cons ELSE '' END,
    CASE WHEN r_misc < 0.1 THEN '[{"type": "photo", "url": "https://example.com/p.jpg"}]'::jsonb
         ELSE '[]'::jsonb END,
    status,
    CASE WHEN status = 'snoozed' THEN now() + r_misc * interval '2 days' END,
    CASE WHEN r_prio < 0.03 THEN 'urgent' WHEN r_prio < 0.15 THEN 'high'
         WHEN r_prio < 0.90 THEN 'normal' ELSE 'low' END,
    CASE WHEN r_misc > 0.95 THEN ''
         WHEN rating >= 4 THEN 'positive' WHEN rating = 3 THEN 'neutral'
         WHEN rating <= 2 THEN 'negative'
         WHEN r_rating < 0.6 THEN 'neutral' WHEN r_rating < 0.85 THEN 'negative'
         ELSE 'positive' END,
    CASE WHEN r_misc > 0.95 THEN ''
         WHEN rating >= 4 THEN 'praise'
         WHEN channel = 'question' THEN
              (ARRAY['product_question', 'size_fit', 'other'])[1 + floor(r_rating * 3)::int]
         ELSE (ARRAY['quality_defect', 'size_fit', 'wrong_item', 'delivery_packaging',
                     'material_smell', 'price_value', 'return_refund', 'other'])
              [1 + floor(r_prod * 8)::int] END,
    NOT coalesce(rating = 5 AND r_resp > 0.7, false),
    occ + CASE channel WHEN 'chat' THEN interval '2 hours' WHEN 'question' THEN interval '12 hours'
                       ELSE interval '24 hours' END,
    occ + CASE channel WHEN 'chat' THEN interval '3 days' ELSE interval '30 days' END,
    responded,
    CASE WHEN r_asg < 0.4 THEN (%(members)s::int[])[1 + floor(r_asg / 0.4 * %(nmembers)s)::int] END,
    occ,
    least(now(), occ + CASE WHEN channel = 'chat' THEN r_misc * interval '6 hours'
                            ELSE interval '0' END),
    CASE WHEN status IN ('new', 'open') THEN floor(r_misc * 4)::int ELSE 0 END,
    responded IS NOT NULL,
    CASE WHEN responded IS NOT NULL AND channel = 'review' THEN responded + interval '30 days' END,
    CASE WHEN responded IS NOT NULL AND channel = 'review' THEN 1 ELSE 0 END,
    CASE WHEN r_misc > 0.95 THEN '{}'::jsonb
         ELSE '{"engine": "rules", "summary": "Покупатель пишет о товаре"}'::jsonb END,
    CASE WHEN r_misc > 0.95 THEN NULL ELSE occ + interval '1 minute' END,
    '',
    '{}'::jsonb,
    CASE WHEN status = 'closed' THEN coalesce(responded, occ) + interval '1 hour' END,
    occ,
    greatest(occ, coalesce(responded, occ))
FROM d
JOIN bench_text AS t ON t.i = floor(d.r_text * %(ntext)s)::int
"""


def _interaction_index_ddl(cursor: Any) -> list[tuple[str, str]]:
    """(drop, create) statements of every secondary index and unique constraint."""
    cursor.execute(
        """
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = 'inbox_interaction'::regclass AND contype = 'u'
        """
    )
    constraints = cursor.fetchall()
    ddl = [
        (
            f'ALTER TABLE inbox_interaction DROP CONSTRAINT "{name}"',
            f'ALTER TABLE inbox_interaction ADD CONSTRAINT "{name}" {definition}',
        )
        for name, definition in constraints
    ]
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes AS i
        WHERE i.tablename = 'inbox_interaction' AND i.indexname NOT IN (
            SELECT conname FROM pg_constraint
            WHERE conrelid = 'inbox_interaction'::regclass AND contype IN ('p', 'u'))
        """
    )
    ddl += [(f'DROP INDEX "{name}"', definition) for name, definition in cursor.fetchall()]
    return ddl


def _rebuild_indexes(db_url: str, creates: list[str]) -> None:
    """Rebuild on two connections at once (2 cores): the GIN index alone, the b-trees beside."""
    import psycopg

    gin = [sql for sql in creates if "gin" in sql.lower()]
    btree = [sql for sql in creates if sql not in gin]

    def run(statements: list[str]) -> None:
        with psycopg.connect(db_url.replace("postgres://", "postgresql://"), autocommit=True) as c:
            c.execute("SET maintenance_work_mem = '1GB'")
            c.execute("SET max_parallel_maintenance_workers = 0")
            for sql in statements:
                started = time.perf_counter()
                c.execute(sql)
                _log(f"  {time.perf_counter() - started:6.1f}s  {sql[:90]}")

    thread = threading.Thread(target=run, args=(gin,))
    thread.start()
    run(btree)
    thread.join()


def _generate(args: argparse.Namespace, db_url: str) -> dict[str, Any]:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from inbox.models import MarketplaceAccount, Membership, User
    from inbox.services.workspaces import create_workspace

    n, k = args.interactions_per_workspace, args.workspaces
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def mark(step: str, since: float) -> float:
        now = time.perf_counter()
        timings[step] = round(now - since, 1)
        _log(f"{step}: {timings[step]}s")
        return now

    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bench_inbox_meta (key text PRIMARY KEY, value jsonb)"
        )
        cur.execute("DELETE FROM bench_inbox_meta")
        cur.execute("DROP TABLE IF EXISTS bench_text")
        cur.execute(
            "CREATE TABLE bench_text (i int PRIMARY KEY, text text, pros text, cons text, "
            "other text)"
        )
        cur.executemany("INSERT INTO bench_text VALUES (%s, %s, %s, %s, %s)", _text_pool(TEXT_POOL))
    t = mark("text_pool", started)

    password = make_password("bench-password-123")
    workspaces = []
    with transaction.atomic():
        for w in range(k):
            owner = User.objects.create(
                email=f"owner{w}@bench.example.com", password=password, full_name=f"Владелец {w}"
            )
            workspace = create_workspace(f"Bench {w}", owner=owner)
            members = [owner]
            for m in range(MEMBERS_PER_WORKSPACE - 1):
                user = User.objects.create(
                    email=f"agent{w}-{m}@bench.example.com",
                    password=password,
                    full_name=f"{NAMES[m]} Агент",
                )
                Membership.objects.create(
                    user=user, workspace=workspace, role=Membership.Role.AGENT
                )
                members.append(user)
            accounts = {
                mp: MarketplaceAccount.objects.create(
                    workspace=workspace,
                    marketplace=mp,
                    name=f"{'WB' if mp == 'wb' else 'Ozon'} магазин {w}",
                    credentials={"token": "bench-token"},
                    enabled_channels=["review", "question", "chat"],
                    sync_status="ok",
                )
                for mp in ("wb", "ozon")
            }
            workspaces.append((workspace, members, accounts))
    t = mark("workspaces", t)

    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET session_replication_role = replica")  # no FK triggers during the load
        ddl = _interaction_index_ddl(cur)
        for drop, _create in ddl:
            cur.execute(drop)
        for workspace, members, accounts in workspaces:
            ws = workspace.pk
            product_lo = {}
            for mp, account in accounts.items():
                cur.execute(
                    """
                    INSERT INTO inbox_product (workspace_id, account_id, external_id, name, brand,
                        article, image_url, card_data, cached_at, created_at, updated_at)
                    SELECT %s, %s, (100000 + g)::text,
                           (%s::text[])[1 + g %% 16] || ' модель ' || g,
                           (ARRAY['Baon', 'Gloria', 'Mango', 'Zarina', 'Befree'])[1 + g %% 5],
                           'ART-' || g, '', '{}'::jsonb, now(), now(),
                           now() - g * interval '1 minute'
                    FROM generate_series(1, %s) AS g RETURNING id
                    """,
                    [ws, account.pk, [i.capitalize() for i in ITEMS], PRODUCTS_PER_ACCOUNT],
                )
                product_lo[mp] = min(row[0] for row in cur.fetchall())
            ncust = max(1, n // 4)
            cur.execute(
                """
                INSERT INTO inbox_customer (workspace_id, marketplace, external_id, display_name,
                    interactions_count, reviews_count, rating_sum, first_seen_at, last_seen_at,
                    created_at, updated_at)
                SELECT %s, CASE WHEN g %% 5 < 3 THEN 'wb' ELSE 'ozon' END, 'c' || g,
                       (%s::text[])[1 + g %% 16], 4, 3, 12, now() - interval '300 days', now(),
                       now(), now()
                FROM generate_series(1, %s) AS g
                RETURNING id
                """,
                [ws, NAMES, ncust],
            )
            cust_lo = min(row[0] for row in cur.fetchall())
            t = mark(f"catalog_ws{ws}", t)
            cur.execute(
                INTERACTION_SQL,
                {
                    "n": n,
                    "ws": ws,
                    "acc_wb": accounts["wb"].pk,
                    "acc_oz": accounts["ozon"].pk,
                    "prod_wb": product_lo["wb"],
                    "prod_oz": product_lo["ozon"],
                    "nprod": PRODUCTS_PER_ACCOUNT - 1,
                    "cust_lo": cust_lo,
                    "ncust": ncust - 1,
                    "names": NAMES,
                    "nnames": len(NAMES) - 1,
                    "members": [u.pk for u in members],
                    "nmembers": len(members) - 1,
                    "ntext": TEXT_POOL - 1,
                },
            )
            t = mark(f"interactions_ws{ws}", t)
        cur.execute("SET session_replication_role = DEFAULT")
    _rebuild_indexes(db_url, [create for _drop, create in ddl])
    t = mark("indexes", t)

    workspace, members, accounts = workspaces[0]
    with connection.cursor() as cur:
        cur.execute(
            """
            CREATE TABLE bench_sample AS
            SELECT id, channel FROM inbox_interaction
            WHERE workspace_id = %s ORDER BY md5(id::text) LIMIT %s
            """,
            [workspace.pk, SAMPLED_CONVERSATIONS],
        )
        # messages: the customer's text, replies, notes (chats are longer)
        cur.execute(
            """
            INSERT INTO inbox_message (workspace_id, interaction_id, external_id, direction,
                author_type, author_id, text, attachments, delivery_status, is_edit,
                publish_after, sent_at, confirmed_at, failure_reason, attempts, idempotency_key,
                occurred_at, created_at, updated_at)
            SELECT %s, i.id, 'm' || i.id || '-' || g,
                   CASE WHEN g %% 2 = 1 THEN 'in' WHEN g %% 7 = 0 THEN 'note' ELSE 'out' END,
                   CASE WHEN g %% 2 = 1 THEN 'customer' ELSE 'seller' END,
                   CASE WHEN g %% 2 = 1 THEN NULL ELSE %s END,
                   CASE WHEN g %% 2 = 1 THEN i.text
                        ELSE 'Здравствуйте! Спасибо за обращение, мы разберёмся с заказом.' END,
                   '[]'::jsonb,
                   CASE WHEN g %% 2 = 1 THEN 'received' ELSE 'confirmed' END,
                   false, NULL, NULL, NULL, '', 0, '',
                   i.occurred_at + g * interval '10 minutes', now(), now()
            FROM inbox_interaction AS i
            JOIN bench_sample AS s USING (id)
            CROSS JOIN LATERAL generate_series(1, CASE i.channel WHEN 'chat' THEN 10
                WHEN 'question' THEN 2 ELSE 2 END) AS g
            """,
            [workspace.pk, members[1].pk],
        )
        cur.execute(
            """
            INSERT INTO inbox_interactionevent (workspace_id, interaction_id, account_id, kind,
                actor_id, payload, created_at, updated_at)
            SELECT %s, i.id, i.account_id,
                   (ARRAY['received', 'analyzed', 'assigned', 'reply_queued', 'reply_sent'])[g],
                   NULL, '{}'::jsonb, i.occurred_at + g * interval '5 minutes', now()
            FROM inbox_interaction AS i JOIN bench_sample AS s USING (id)
            CROSS JOIN generate_series(1, 5) AS g
            """,
            [workspace.pk],
        )
        cur.execute(
            """
            INSERT INTO inbox_interactionlink (workspace_id, source_id, target_id, strength,
                reason, created_at, updated_at)
            SELECT %s, s.id, o.id, 'strong', 'Тот же покупатель', now(), now()
            FROM bench_sample AS s
            JOIN inbox_interaction AS i ON i.id = s.id
            CROSS JOIN LATERAL (
                SELECT id FROM inbox_interaction AS other
                WHERE other.customer_id = i.customer_id AND other.id <> i.id
                ORDER BY other.occurred_at DESC LIMIT 2) AS o
            ON CONFLICT DO NOTHING
            """,
            [workspace.pk],
        )
    t = mark("conversations", t)
    with connection.cursor() as cur:
        for table in (
            "inbox_interaction", "inbox_message", "inbox_interactionevent",
            "inbox_interactionlink", "inbox_product", "inbox_customer",
        ):  # fmt: skip
            cur.execute(f"VACUUM ANALYZE {table}")
    t = mark("vacuum_analyze", t)
    dataset = {
        "interactions_per_workspace": n,
        "workspaces": k,
        "measured_workspace": workspace.pk,
        "member_email": members[1].email,
        "generation_seconds": round(time.perf_counter() - started, 1),
        "generation_steps_seconds": timings,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO bench_inbox_meta VALUES ('dataset', %s::jsonb)", [json.dumps(dataset)]
        )
    return dataset


# --- measurement --------------------------------------------------------------------------------


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _measure(
    client: Any, requests: list[tuple[str, dict[str, str]]], *, warmup: int, count: int
) -> dict[str, Any]:
    for i in range(warmup):
        path, headers = requests[i % len(requests)]
        response = client.get(path, headers=headers, secure=True)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
    times = []
    size = 0
    for i in range(count):
        path, headers = requests[(warmup + i) % len(requests)]
        started = time.perf_counter()
        response = client.get(path, headers=headers, secure=True)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
        size = len(response.content)
    return {
        "requests": count,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 95), 1),
        "max_ms": round(max(times), 1),
        "response_bytes": size,
    }


def _query_profile(client: Any, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """Queries of one request, with the slowest (outside the timed loop)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(path, headers=headers, secure=True)
    queries = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
    return {
        "queries": len(queries),
        "db_ms": round(sum(float(q["time"]) for q in queries) * 1000, 1),
        "slowest_ms": round(float(queries[0]["time"]) * 1000, 1) if queries else 0,
        "slowest_sql": queries[0]["sql"][:300] if queries else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interactions-per-workspace", type=int, default=1_000_000)
    parser.add_argument("--workspaces", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--rebuild", action="store_true", help="regenerate the dataset")
    parser.add_argument(
        "--requested-interactions-per-workspace",
        type=int,
        default=1_000_000,
        help="the size the task asked for; a smaller run reports scaled_down",
    )
    parser.add_argument("--requested-workspaces", type=int, default=5)
    args = parser.parse_args()

    db_url = os.environ.get("BENCH_INBOX_DATABASE_URL", DEFAULT_DB_URL)
    # production-like: no query log, no debug templates
    production_like(
        database_url=db_url, redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/2")
    )

    _prepare_database(db_url, rebuild=args.rebuild)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from inbox import selectors
    from inbox.models import Interaction, User, Workspace

    with connection.cursor() as cur:
        stored = _stored_dataset(cur)
    wanted = (args.interactions_per_workspace, args.workspaces)
    if (
        stored is not None
        and (
            stored["interactions_per_workspace"],
            stored["workspaces"],
        )
        != wanted
    ):
        _log(f"dataset {stored['interactions_per_workspace']}x{stored['workspaces']} != wanted")
        connection.close()
        _prepare_database(db_url, rebuild=True)
        stored = None
    elif stored is None:
        with connection.cursor() as cur:
            cur.execute("SELECT to_regclass('inbox_interaction') IS NOT NULL")
            has_tables = cur.fetchone()[0]
        if has_tables:  # an interrupted generation: start from an empty database
            connection.close()
            _prepare_database(db_url, rebuild=True)
    generated_now = stored is None
    call_command("migrate", verbosity=0)  # a kept dataset is brought to the current schema too
    if generated_now:
        _log(f"generating {args.workspaces} x {args.interactions_per_workspace} interactions")
        dataset = _generate(args, db_url)
    else:
        _log("dataset present, skipping generation (--rebuild to regenerate)")
        dataset = stored

    workspace = Workspace.objects.get(pk=dataset["measured_workspace"])
    user = User.objects.get(email=dataset["member_email"])
    client = Client()
    # the session is established once, by the backend a real log-in goes through
    client.force_login(user, backend="inbox.tenancy.MemberBackend")

    now = timezone.now()
    list_filters: dict[str, Any] = {}
    search_query = {
        "channel": "review",
        "rating": str(SEARCH_RATING),
        "status": "all",
        "q": SEARCH_WORD,
    }
    search_filters = {**search_query, "rating": SEARCH_RATING}
    first = selectors.inbox_page(workspace, list_filters, user=user, now=now)
    cursor = ""
    pages_followed = 0
    for _page in range(-(-DEEP_ROWS // selectors.INBOX_PAGE_SIZE)):
        page = selectors.inbox_page(workspace, list_filters, user=user, now=now, cursor=cursor)
        cursor = page.next_cursor
        pages_followed += 1
        if not cursor:
            break
    search_page = selectors.inbox_page(workspace, search_filters, user=user, now=now)
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM bench_sample ORDER BY id")
        sample_ids = [row[0] for row in cur.fetchall()]
        cur.execute(
            "SELECT count(*) FROM inbox_message WHERE interaction_id IN "
            "(SELECT id FROM bench_sample)"
        )
        sample_messages = cur.fetchone()[0]
        cur.execute("SELECT pg_database_size(current_database())")
        db_bytes = cur.fetchone()[0]
        cur.execute("SHOW shared_buffers")
        shared_buffers = cur.fetchone()[0]
        cur.execute("SELECT current_setting('server_version')")
        pg_version = cur.fetchone()[0]

    htmx = {"HX-Request": "true"}
    inbox_url = reverse("inbox:inbox")

    def detail_url(pk: int) -> str:
        return reverse("inbox:interaction-detail", args=[pk])

    scenarios: dict[str, list[tuple[str, dict[str, str]]]] = {
        # full page load of /inbox/ (what a bookmark or F5 costs)
        "inbox_first_page": [(inbox_url, {})],
        # "Show more" about DEEP_ROWS rows deep: the htmx request the keyset link makes
        "inbox_deep_page": [
            (
                inbox_url + "?" + urlencode({"cursor": cursor}),
                {**htmx, "HX-Target": "interaction-list-more"},
            )
        ],
        # the filter form (htmx, swaps #interaction-list)
        "inbox_search": [
            (inbox_url + "?" + urlencode(search_query), {**htmx, "HX-Target": "interaction-list"})
        ],
        # a click on a row: the conversation pane (htmx)
        "conversation": [
            (detail_url(pk), {**htmx, "HX-Target": "interaction-detail-pane"}) for pk in sample_ids
        ],
        # the same conversation opened as a full page (pane + inbox list)
        "conversation_full_page": [(detail_url(pk), {}) for pk in sample_ids],
    }
    load_before = round(os.getloadavg()[0], 2)
    results = {}
    for name, requests in scenarios.items():
        _log(f"measuring {name}")
        result = _measure(client, requests, warmup=args.warmup, count=args.requests)
        result["target_p95_ms"] = TARGETS_MS[name]
        result["met_target"] = result["p95_ms"] <= TARGETS_MS[name]
        result["one_request"] = _query_profile(client, *requests[0])
        results[name] = result

    total_interactions = Interaction.objects.count()
    in_workspace = Interaction.objects.for_workspace(workspace).count()
    requested = (args.requested_interactions_per_workspace, args.requested_workspaces)
    scaled_down = wanted != requested
    output = {
        "benchmark": "inbox",
        "database": _db_name(db_url),
        "scaled_down": scaled_down,
        "sizes": {
            "interactions_per_workspace": args.interactions_per_workspace,
            "workspaces": args.workspaces,
            **(
                {
                    "requested_interactions_per_workspace": requested[0],
                    "requested_workspaces": requested[1],
                }
                if scaled_down
                else {}
            ),
        },
        "rows": {
            "interactions_total": total_interactions,
            "interactions_measured_workspace": in_workspace,
            "default_list_matching": first.total,
            "deep_page_cursor": cursor,
            "deep_pages_followed": pages_followed if cursor else 0,
            "page_size": selectors.INBOX_PAGE_SIZE,
            "search_matching": search_page.total,
            # the list counts a text search's matches up to SEARCH_COUNT_LIMIT ("more than")
            "search_matching_is_lower_bound": search_page.total_is_lower_bound,
            "search_query": search_query,
            "conversations_sampled": len(sample_ids),
            "messages_in_sampled_conversations": sample_messages,
            "products_per_account": PRODUCTS_PER_ACCOUNT,
            "database_mb": round(db_bytes / 1024 / 1024),
        },
        "generation": {
            "generated_this_run": generated_now,
            "seconds": dataset["generation_seconds"],
            "steps_seconds": dataset["generation_steps_seconds"],
            "generated_at": dataset["generated_at"],
        },
        "scenarios": results,
        "all_targets_met": all(r["met_target"] for r in results.values()),
        "machine": {
            "nproc": os.cpu_count(),
            "cpu_model": _cpu_model(),
            "ram_gb": _ram_gb(),
            "python": platform.python_version(),
            "postgresql": pg_version,
            "shared_buffers": shared_buffers,
            "load_average_1m_before_measuring": load_before,
            "load_average_1m_after_measuring": round(os.getloadavg()[0], 2),
        },
    }
    print(json.dumps(output, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
