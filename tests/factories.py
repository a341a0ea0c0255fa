"""Typed test data builders: the tenant is always explicit (CONVENTIONS §14)."""

import itertools
from datetime import datetime
from typing import Any

from django.utils import timezone

from inbox.models import (
    Customer,
    Interaction,
    InteractionEvent,
    MarketplaceAccount,
    Membership,
    Message,
    Product,
    User,
    Workspace,
)
from inbox.services.workspaces import create_workspace

_seq = itertools.count(1)


def make_user(**overrides: Any) -> User:
    n = next(_seq)
    password = overrides.pop("password", "correct-horse-battery-staple")
    email = overrides.pop("email", f"user{n}@example.com")
    return User.objects.create_user(email, password, **overrides)


def make_workspace(*, owner: User | None = None, name: str | None = None) -> Workspace:
    return create_workspace(name or f"Компания {next(_seq)}", owner=owner or make_user())


def make_member(
    *, workspace: Workspace, role: str = Membership.Role.AGENT, **user_fields: Any
) -> User:
    user = make_user(**user_fields)
    Membership.objects.create(user=user, workspace=workspace, role=role)
    return user


def make_account(*, workspace: Workspace, **overrides: Any) -> MarketplaceAccount:
    fields: dict[str, Any] = {
        "marketplace": "wb",
        "name": f"Магазин {next(_seq)}",
        "credentials": {"token": "test-token-0000"},
        "enabled_channels": ["review", "question", "chat"],
    }
    fields.update(overrides)
    return MarketplaceAccount.objects.create(workspace=workspace, **fields)


def make_product(
    *, workspace: Workspace, account: MarketplaceAccount | None = None, **overrides: Any
) -> Product:
    account = account or make_account(workspace=workspace)
    fields: dict[str, Any] = {"external_id": str(100000 + next(_seq)), "name": "Футболка хлопковая"}
    fields.update(overrides)
    return Product.objects.create(workspace=workspace, account=account, **fields)


def make_customer(*, workspace: Workspace, **overrides: Any) -> Customer:
    fields: dict[str, Any] = {
        "marketplace": "wb",
        "external_id": f"cust-{next(_seq)}",
        "display_name": "Анна",
    }
    fields.update(overrides)
    return Customer.objects.create(workspace=workspace, **fields)


def make_interaction(
    *, workspace: Workspace, account: MarketplaceAccount | None = None, **overrides: Any
) -> Interaction:
    account = account or make_account(workspace=workspace)
    now: datetime = overrides.pop("now", timezone.now())
    fields: dict[str, Any] = {
        "marketplace": account.marketplace,
        "channel": "review",
        "external_id": f"ext-{next(_seq)}",
        "rating": 5,
        "text": "Отличная футболка, спасибо!",
        "occurred_at": now,
        "last_message_at": now,
    }
    fields.update(overrides)
    return Interaction.objects.create(workspace=workspace, account=account, **fields)


def make_message(*, interaction: Interaction, **overrides: Any) -> Message:
    fields: dict[str, Any] = {
        "direction": Message.Direction.INBOUND,
        "author_type": Message.AuthorType.CUSTOMER,
        "text": "Здравствуйте!",
        "occurred_at": timezone.now(),
    }
    fields.update(overrides)
    return Message.objects.create(
        workspace=interaction.workspace, interaction=interaction, **fields
    )


def make_event(*, interaction: Interaction, **overrides: Any) -> InteractionEvent:
    fields: dict[str, Any] = {"kind": InteractionEvent.Kind.RECEIVED}
    fields.update(overrides)
    return InteractionEvent.objects.create(
        workspace=interaction.workspace,
        interaction=interaction,
        account=interaction.account,
        **fields,
    )
