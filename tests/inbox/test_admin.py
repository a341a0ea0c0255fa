"""Django admin for staff: every model registered, pages render, credentials never in clear."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.factories import make_account, make_interaction, make_message, make_user

OUR_APPS = {"inbox", "connectors", "intelligence", "analytics"}


def test_every_model_of_our_apps_is_registered_in_admin():
    models = {m for m in apps.get_models() if m._meta.app_label in OUR_APPS}

    assert models - set(admin.site._registry) == set()


@pytest.mark.django_db
def test_staff_sees_every_changelist_with_search_and_filters(client, workspace):
    staff = make_user(is_staff=True, is_superuser=True)
    interaction = make_interaction(workspace=workspace)
    make_message(interaction=interaction)
    client.force_login(staff, backend="inbox.tenancy.MemberBackend")

    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in OUR_APPS:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        query = "?q=x" if model_admin.search_fields else ""
        response = client.get(url + query)
        assert response.status_code == 200, url


@pytest.mark.django_db
def test_admin_account_page_masks_credentials(client, workspace):
    staff = make_user(is_staff=True, is_superuser=True)
    account = make_account(workspace=workspace, credentials={"token": "very-secret-token-9876"})
    client.force_login(staff, backend="inbox.tenancy.MemberBackend")

    response = client.get(reverse("admin:inbox_marketplaceaccount_change", args=[account.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "very-secret-token" not in body
    assert "••••9876" in body


@pytest.mark.django_db
def test_rq_dashboard_is_for_staff_only(client, workspace):
    staff = make_user(is_staff=True)

    anonymous = client.get("/admin/rq/")
    client.force_login(staff, backend="inbox.tenancy.MemberBackend")
    allowed = client.get("/admin/rq/")

    assert anonymous.status_code == 302
    assert allowed.status_code == 200
