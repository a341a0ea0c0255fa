from django.urls import path

from inbox.views import public

app_name = "inbox"

urlpatterns = [
    path("", public.home, name="home"),
    path("workspace/switch/", public.workspace_switch, name="workspace-switch"),
]
