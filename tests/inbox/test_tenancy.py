"""Every URL of the project, called with another workspace's ids, must not leak its data."""

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from inbox.models import Interaction, Workspace
from tests.factories import (
    make_account,
    make_customer,
    make_event,
    make_interaction,
    make_message,
    make_product,
)

LEAK_MARKER = "ЧУЖОЙ-СЕКРЕТ-7731"

# Namespaces that are staff-only by design (cross-tenant admin tools), checked separately below.
STAFF_ONLY_PREFIXES = ("admin/",)
# Public pages with no tenant data at all.
PUBLIC_PATTERNS = {"", "healthz", "signup/", "workspaces/new/", "accounts/reset/<uidb64>/<token>/"}
# POSTing here logs the client out, and every later URL would only answer "log in".
PUBLIC_PATTERNS.add("accounts/logout/")


def _walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            found.append((prefix + str(entry.pattern), entry))
    return found


def _foreign_objects(other: Workspace) -> dict[str, int | str]:
    """Ids of rows that belong to `other`, keyed by URL parameter name."""
    account = make_account(workspace=other, name=LEAK_MARKER)
    product = make_product(workspace=other, account=account, name=LEAK_MARKER)
    customer = make_customer(workspace=other, display_name=LEAK_MARKER)
    interaction = make_interaction(
        workspace=other,
        account=account,
        product=product,
        customer=customer,
        text=LEAK_MARKER,
        customer_name=LEAK_MARKER,
    )
    message = make_message(interaction=interaction, text=LEAK_MARKER)
    make_event(interaction=interaction, payload={"note": LEAK_MARKER})
    from inbox.models import AutoReplyRule, Membership, ReplyTemplate, SavedView, SLARule

    template = ReplyTemplate.objects.create(workspace=other, name=LEAK_MARKER, text=LEAK_MARKER)
    rule = AutoReplyRule.objects.create(workspace=other, name=LEAK_MARKER)
    owner_membership = Membership.objects.filter(workspace=other).first()
    assert owner_membership is not None
    saved_view = SavedView.objects.create(
        workspace=other, name=LEAK_MARKER, owner=owner_membership.user
    )
    sla_rule = SLARule.objects.for_workspace(other).first()
    assert sla_rule is not None
    return {
        "pk": interaction.pk,
        "interaction_id": interaction.pk,
        "account_id": account.pk,
        "product_id": product.pk,
        "customer_id": customer.pk,
        "message_id": message.pk,
        "template_id": template.pk,
        "rule_id": rule.pk,
        "view_id": saved_view.pk,
        "sla_rule_id": sla_rule.pk,
        "membership_id": owner_membership.pk,
        "workspace_id": other.pk,
        "channel": "review",
    }


def _fill(route: str, pattern: URLPattern, ids: dict[str, int | str]) -> str:
    path = "/" + route
    for name in pattern.pattern.converters:
        assert name in ids, (
            f"URL {route!r} takes <{name}>: add a foreign object for it to this test, "
            "so that its tenant scoping is checked."
        )
        path = path.replace(f"<{name}>", str(ids[name])).replace(f"<int:{name}>", str(ids[name]))
        path = path.replace(f"<str:{name}>", str(ids[name])).replace(
            f"<slug:{name}>", str(ids[name])
        )
    return path


@pytest.mark.django_db
def test_every_url_refuses_or_hides_another_workspaces_data(
    owner_client, workspace, other_workspace
):
    ids = _foreign_objects(other_workspace)
    checked = 0
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith(STAFF_ONLY_PREFIXES) or route in PUBLIC_PATTERNS:
            continue
        path = _fill(route, pattern, ids)
        statuses = []
        for method in ("get", "post"):
            response = getattr(owner_client, method)(path)
            statuses.append(response.status_code)
            body = response.content.decode(errors="replace")
            assert LEAK_MARKER not in body, (
                f"{method.upper()} {path} shows another workspace's data"
            )
            if pattern.pattern.converters:
                assert response.status_code in (403, 404, 405), (
                    f"{method.upper()} {path} answered {response.status_code} for a foreign id"
                )
        if pattern.pattern.converters:
            assert {403, 404} & set(statuses), f"{path} never refused the foreign id: {statuses}"
        checked += 1
    assert checked >= 2


@pytest.mark.django_db
def test_staff_only_urls_redirect_a_seller_to_the_admin_login(owner_client):
    for path in ("/admin/", "/admin/rq/"):
        response = owner_client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_for_workspace_returns_only_that_workspaces_rows(workspace, other_workspace):
    mine = make_interaction(workspace=workspace)
    make_interaction(workspace=other_workspace)

    assert list(Interaction.objects.for_workspace(workspace)) == [mine]
