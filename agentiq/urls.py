from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agentiq.health import healthz
from inbox.views import public as inbox_views

urlpatterns = [
    path("", inbox_views.landing, name="landing"),
    path("healthz", healthz, name="healthz"),
    path("signup/", inbox_views.signup, name="signup"),
    path("workspaces/new/", inbox_views.workspace_create, name="workspace-create"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("app/", include("inbox.urls")),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
]
