"""The demo's marketplace accounts: one WB and one Ozon account living in the simulator.

The simulator keeps its data in memory and generates it deterministically from the seed, so
after a restart the same credentials are registered again and the same items reappear (the
sync upserts them idempotently). New reviews, questions and chats keep arriving over time.
"""

import logging

from connectors.simulator.client import SimulatorClient
from connectors.simulator.tokens import make_wb_token
from inbox.models import Marketplace, MarketplaceAccount, Workspace
from inbox.services.accounts import connect_account

logger = logging.getLogger(__name__)

DEMO_SEED = 2026
DEMO_SIZE = {"reviews": 60, "questions": 15, "chats": 8, "products": 12}
# Enough for a seller to watch items arrive, slow enough to read them.
DEMO_ARRIVAL_PER_MINUTE = {"review": 2.0, "question": 0.5, "chat": 0.5}
DEMO_OZON_CLIENT_ID = "100500"
DEMO_OZON_API_KEY = "demo-ozon-api-key-0000-1111-2222"


def _existing(workspace: Workspace, marketplace: str) -> MarketplaceAccount | None:
    return (
        MarketplaceAccount.objects.for_workspace(workspace)
        .filter(marketplace=marketplace)
        .order_by("id")
        .first()
    )


def seed_demo_accounts(workspace: Workspace, *, simulator_url: str) -> list[MarketplaceAccount]:
    """Register the demo credentials with the simulator and connect them (idempotent)."""
    simulator = SimulatorClient(simulator_url)
    try:
        accounts = [_seed_wb(workspace, simulator), _seed_ozon(workspace, simulator)]
    finally:
        simulator.close()
    return accounts


def _seed_wb(workspace: Workspace, simulator: SimulatorClient) -> MarketplaceAccount:
    account = _existing(workspace, Marketplace.WB)
    token = (
        account.credentials["token"]
        if account
        else make_wb_token(seller_id="demo-seller", token_type="service")  # noqa: S106
    )
    simulator.create_wb_account(
        token=token, seed=DEMO_SEED, arrival_per_minute=DEMO_ARRIVAL_PER_MINUTE, **DEMO_SIZE
    )
    if account is not None:
        return account
    return connect_account(
        workspace,
        actor=None,
        marketplace=Marketplace.WB,
        name="Уютный дом",
        credentials={"token": token},
        base_url=simulator.url,
    )


def _seed_ozon(workspace: Workspace, simulator: SimulatorClient) -> MarketplaceAccount:
    account = _existing(workspace, Marketplace.OZON)
    simulator.create_ozon_account(
        client_id=DEMO_OZON_CLIENT_ID,
        api_key=DEMO_OZON_API_KEY,
        seed=DEMO_SEED + 1,
        subscription="premium_plus",
        arrival_per_minute=DEMO_ARRIVAL_PER_MINUTE,
        **DEMO_SIZE,
    )
    if account is not None:
        return account
    return connect_account(
        workspace,
        actor=None,
        marketplace=Marketplace.OZON,
        name="Уютный дом",
        credentials={"client_id": DEMO_OZON_CLIENT_ID, "api_key": DEMO_OZON_API_KEY},
        base_url=simulator.url,
    )
