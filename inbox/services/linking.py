"""Customer journeys: link a customer's review, question and chat to each other.

Strength, strongest wins for a pair:
- certain: the same order id;
- strong: the same customer (marketplace buyer id);
- weak: the same customer name and the same product within 3 days, across channels (a review
  and a question or chat; two reviews of one product are two buyers). A weak link is a hint for
  the agent only: customers are never merged on it, and two different known buyer ids are
  never weakly linked.

One INSERT per call, whatever the number of interactions (the ingest calls it per page).
Each new interaction is linked to at most `LINKS_PER_KIND` others per kind (newest first), so a
buyer with hundreds of orders does not produce a quadratic number of rows.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import connection

from inbox.models import Interaction, InteractionLink

WEAK_LINK_DAYS = 3
LINKS_PER_KIND = 20
# First names repeat a lot on a popular product: a weak link joins different channels only
# (a buyer's review and their question or chat), and only a few per item.
WEAK_LINKS_PER_ITEM = 3


def link_journeys(workspace_id: int, interaction_ids: Sequence[int], *, now: datetime) -> int:
    """Create (or strengthen) links from these interactions to others of the same journey.

    Returns the number of links created or strengthened. Runs in the caller's transaction.
    Pairs are stored once, as (smaller id, larger id).
    """
    if not interaction_ids:
        return 0
    interaction = Interaction._meta.db_table
    link = InteractionLink._meta.db_table
    strength = InteractionLink.Strength
    rank_sql = (
        f"CASE {{col}} WHEN '{strength.CERTAIN}' THEN 1 WHEN '{strength.STRONG}' THEN 2 ELSE 3 END"
    )
    # Indexes: ix_ws_order (workspace, order_id), ix_customer_occurred (customer, occurred_at),
    # ix_product_occurred (product, occurred_at).
    sql = f"""
        WITH n AS (
            SELECT id, workspace_id, channel, order_id, customer_id, customer_name, product_id,
                   occurred_at
            FROM {interaction} WHERE id = ANY(%(ids)s) AND workspace_id = %(ws)s
        ),
        candidates AS (
            SELECT n.id AS a, o.id AS b, 1 AS rank, %(certain)s AS strength,
                   'order' AS reason
            FROM n JOIN LATERAL (
                SELECT o.id FROM {interaction} o
                WHERE o.workspace_id = n.workspace_id AND o.order_id = n.order_id
                  AND o.id <> n.id
                ORDER BY o.occurred_at DESC LIMIT %(per_kind)s
            ) o ON true
            WHERE n.order_id <> ''
            UNION ALL
            SELECT n.id, o.id, 2, %(strong)s, 'customer'
            FROM n JOIN LATERAL (
                SELECT o.id FROM {interaction} o
                WHERE o.customer_id = n.customer_id AND o.id <> n.id
                ORDER BY o.occurred_at DESC LIMIT %(per_kind)s
            ) o ON true
            WHERE n.customer_id IS NOT NULL
            UNION ALL
            SELECT n.id, o.id, 3, %(weak)s, 'name_product'
            FROM n JOIN LATERAL (
                SELECT o.id FROM {interaction} o
                WHERE o.product_id = n.product_id
                  AND o.occurred_at BETWEEN n.occurred_at - %(window)s
                                        AND n.occurred_at + %(window)s
                  AND o.customer_name = n.customer_name AND o.channel <> n.channel
                  AND NOT (o.customer_id IS NOT NULL AND n.customer_id IS NOT NULL
                           AND o.customer_id <> n.customer_id)
                LIMIT %(weak_per_item)s
            ) o ON true
            WHERE n.customer_name <> '' AND n.product_id IS NOT NULL
        ),
        best AS (
            SELECT DISTINCT ON (LEAST(a, b), GREATEST(a, b))
                   LEAST(a, b) AS source_id, GREATEST(a, b) AS target_id, strength, reason
            FROM candidates
            ORDER BY LEAST(a, b), GREATEST(a, b), rank
        )
        INSERT INTO {link} AS l
            (workspace_id, source_id, target_id, strength, reason, created_at, updated_at)
        SELECT %(ws)s, source_id, target_id, strength, reason, %(now)s, %(now)s FROM best
        ON CONFLICT (source_id, target_id) DO UPDATE
            SET strength = EXCLUDED.strength, reason = EXCLUDED.reason,
                updated_at = EXCLUDED.updated_at
            WHERE {rank_sql.format(col="EXCLUDED.strength")} < {rank_sql.format(col="l.strength")}
    """  # noqa: S608 - table names from model metadata; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "ids": list(interaction_ids),
                "ws": workspace_id,
                "certain": strength.CERTAIN.value,
                "strong": strength.STRONG.value,
                "weak": strength.WEAK.value,
                "per_kind": LINKS_PER_KIND,
                "weak_per_item": WEAK_LINKS_PER_ITEM,
                "window": timedelta(days=WEAK_LINK_DAYS),
                "now": now,
            },
        )
        return cursor.rowcount
