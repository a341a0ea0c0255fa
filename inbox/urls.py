from django.urls import path

from inbox.views import accounts, public, settings
from inbox.views import inbox as inbox_views

app_name = "inbox"

urlpatterns = [
    path("", public.home, name="home"),
    path("workspace/switch/", public.workspace_switch, name="workspace-switch"),
    # --- The unified inbox ---
    path("inbox/", inbox_views.inbox, name="inbox"),
    path("inbox/bulk/", inbox_views.inbox_bulk, name="inbox-bulk"),
    path("inbox/bulk/progress/", inbox_views.inbox_bulk_progress, name="inbox-bulk-progress"),
    path("inbox/views/", inbox_views.saved_views, name="saved-views"),
    path("inbox/products/", inbox_views.inbox_product_options, name="inbox-product-options"),
    path(
        "inbox/views/<int:view_id>/delete/",
        inbox_views.saved_view_delete,
        name="saved-view-delete",
    ),
    path("inbox/<int:pk>/", inbox_views.interaction_detail, name="interaction-detail"),
    path("inbox/<int:pk>/read/", inbox_views.interaction_read, name="interaction-read"),
    path("inbox/<int:pk>/check/", inbox_views.interaction_check, name="interaction-check"),
    path("inbox/<int:pk>/reply/", inbox_views.interaction_reply, name="interaction-reply"),
    path(
        "inbox/<int:pk>/messages/<int:message_id>/",
        inbox_views.interaction_delivery,
        name="interaction-delivery",
    ),
    path("inbox/<int:pk>/notes/", inbox_views.interaction_note, name="interaction-note"),
    path("inbox/<int:pk>/status/", inbox_views.interaction_status, name="interaction-status"),
    path("inbox/<int:pk>/assign/", inbox_views.interaction_assign, name="interaction-assign"),
    path("inbox/<int:pk>/template/", inbox_views.interaction_template, name="interaction-template"),
    path("inbox/<int:pk>/presence/", inbox_views.interaction_presence, name="interaction-presence"),
    # --- Settings: accounts, SLA, templates, auto-replies, stop-words, team, LLM usage ---
    path("settings/", settings.settings_index, name="settings-index"),
    path("settings/accounts/", accounts.account_list, name="account-list"),
    path("settings/accounts/connect/", accounts.account_connect, name="account-connect"),
    path("settings/accounts/check/", accounts.account_check, name="account-check"),
    path("settings/accounts/<int:account_id>/", accounts.account_detail, name="account-detail"),
    path(
        "settings/accounts/<int:account_id>/edit/",
        accounts.account_update,
        name="account-update",
    ),
    path(
        "settings/accounts/<int:account_id>/credentials/",
        accounts.account_credentials_update,
        name="account-credentials-update",
    ),
    path(
        "settings/accounts/<int:account_id>/toggle/",
        accounts.account_toggle,
        name="account-toggle",
    ),
    path(
        "settings/accounts/<int:account_id>/delete/",
        accounts.account_delete,
        name="account-delete",
    ),
    path(
        "settings/accounts/<int:account_id>/sync/",
        accounts.account_sync_progress,
        name="account-sync-progress",
    ),
    path(
        "settings/accounts/<int:account_id>/sync/start/",
        accounts.account_sync_start,
        name="account-sync-start",
    ),
    path("settings/sla/", settings.sla_rules, name="sla-rules"),
    path("settings/templates/", settings.template_list, name="template-list"),
    path("settings/templates/new/", settings.template_create, name="template-create"),
    path("settings/templates/<int:template_id>/", settings.template_update, name="template-update"),
    path(
        "settings/templates/<int:template_id>/delete/",
        settings.template_delete,
        name="template-delete",
    ),
    path("settings/auto-replies/", settings.autoreply_list, name="autoreply-list"),
    path("settings/auto-replies/new/", settings.autoreply_create, name="autoreply-create"),
    path(
        "settings/auto-replies/<int:rule_id>/", settings.autoreply_update, name="autoreply-update"
    ),
    path(
        "settings/auto-replies/<int:rule_id>/mode/",
        settings.autoreply_mode,
        name="autoreply-mode",
    ),
    path(
        "settings/auto-replies/<int:rule_id>/delete/",
        settings.autoreply_delete,
        name="autoreply-delete",
    ),
    path("settings/stop-words/", settings.stop_words, name="stop-words"),
    path("settings/team/", settings.member_list, name="member-list"),
    path("settings/team/invite/", settings.member_invite, name="member-invite"),
    path("settings/team/<int:membership_id>/role/", settings.member_role, name="member-role"),
    path(
        "settings/team/<int:membership_id>/remove/",
        settings.member_remove,
        name="member-remove",
    ),
    path("settings/llm-usage/", settings.llm_usage, name="llm-usage"),
]
