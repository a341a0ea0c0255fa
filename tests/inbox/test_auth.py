import pytest
from django.core import mail
from django.urls import reverse

from inbox.models import Membership, SLARule, User, Workspace
from tests.factories import make_user, make_workspace


@pytest.mark.django_db
def test_signup_creates_owner_workspace_and_default_sla_rules(client):
    response = client.post(
        reverse("signup"),
        {
            "full_name": "Иван Петров",
            "company": "ООО Ромашка",
            "email": "Ivan@Example.com",
            "password": "s3cure-Passw0rd-long",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:home")
    user = User.objects.get(email="ivan@example.com")
    membership = Membership.objects.get(user=user)
    assert (membership.workspace.name, membership.role) == ("ООО Ромашка", "owner")
    assert SLARule.objects.for_workspace(membership.workspace).count() == 12
    assert user.password.startswith("argon2")


@pytest.mark.django_db
def test_signup_with_a_taken_email_shows_an_error_in_russian(client):
    make_user(email="taken@example.com")

    response = client.post(
        reverse("signup"),
        {
            "full_name": "И",
            "company": "К",
            "email": "taken@example.com",
            "password": "s3cure-Passw0rd-long",
        },
    )

    assert response.status_code == 200
    assert "Пользователь с таким адресом уже существует." in response.content.decode()
    assert Workspace.objects.count() == 0


@pytest.mark.django_db
def test_login_with_email_reaches_the_workspace_home_in_russian(client):
    user = make_user(email="seller@example.com", password="s3cure-Passw0rd-long")
    make_workspace(owner=user, name="Лавка")

    response = client.post(
        reverse("login"),
        {"username": "seller@example.com", "password": "s3cure-Passw0rd-long"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("inbox:home")
    body = response.content.decode()
    assert "Лавка" in body
    assert "Ожидают ответа" in body


@pytest.mark.django_db
def test_login_is_locked_after_five_failures(client):
    make_user(email="victim@example.com", password="s3cure-Passw0rd-long")
    for _ in range(5):
        client.post(reverse("login"), {"username": "victim@example.com", "password": "wrong"})

    response = client.post(
        reverse("login"), {"username": "victim@example.com", "password": "s3cure-Passw0rd-long"}
    )

    assert response.status_code == 429
    assert "Слишком много неудачных попыток входа" in response.content.decode()


@pytest.mark.django_db
def test_password_reset_sends_a_link_by_email(client):
    make_user(email="forgot@example.com")

    response = client.post(reverse("password_reset"), {"email": "forgot@example.com"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body


@pytest.mark.django_db
def test_home_redirects_anonymous_visitor_to_login(client):
    response = client.get(reverse("inbox:home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=" + reverse("inbox:home")


@pytest.mark.django_db
def test_home_for_htmx_with_expired_session_redirects_client_side(client):
    response = client.get(reverse("inbox:home"), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("login") + "?next=")


@pytest.mark.django_db
def test_user_switches_between_own_workspaces(owner_client, owner, workspace):
    second = make_workspace(owner=owner, name="Вторая лавка")

    owner_client.post(reverse("inbox:workspace-switch"), {"workspace": second.pk})
    response = owner_client.get(reverse("inbox:home"))

    assert response.context["workspace"] == second


@pytest.mark.django_db
def test_user_cannot_switch_into_a_foreign_workspace(owner_client, workspace, other_workspace):
    response = owner_client.post(
        reverse("inbox:workspace-switch"), {"workspace": other_workspace.pk}
    )

    assert response.status_code == 404
    assert owner_client.get(reverse("inbox:home")).context["workspace"] == workspace


@pytest.mark.django_db
def test_session_cookie_is_httponly_and_samesite(client):
    user = make_user(email="c@example.com", password="s3cure-Passw0rd-long")
    make_workspace(owner=user)

    response = client.post(
        reverse("login"), {"username": "c@example.com", "password": "s3cure-Passw0rd-long"}
    )

    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


@pytest.mark.django_db
def test_landing_page_records_a_demo_request(client):
    from inbox.models import Lead

    response = client.post(
        reverse("landing"), {"name": "Мария", "email": "m@example.com", "company": "ИП"}
    )

    assert response.status_code == 302
    assert list(Lead.objects.values_list("name", "email")) == [("Мария", "m@example.com")]


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get(reverse("landing"))

    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp


@pytest.mark.django_db
def test_pages_are_russian_even_for_an_english_browser(client):
    response = client.get(reverse("login"), headers={"Accept-Language": "en-US,en;q=0.9"})

    assert "Вход в AgentIQ" in response.content.decode()
