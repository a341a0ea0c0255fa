"""The demo workspace that `make run` loads (idempotent: running it twice changes nothing)."""

from django.db import transaction

from inbox.models import Membership, ReplyTemplate, User, Workspace
from inbox.services.workspaces import create_workspace

DEMO_EMAIL = "demo@agentiq.local"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for the demo login on purpose
DEMO_WORKSPACE = "Демо-магазин «Уютный дом»"

DEMO_TEMPLATES = {
    "Благодарность за отзыв": "Здравствуйте, {name}! Спасибо за высокую оценку {product}. "
    "Рады, что покупка понравилась, ждём вас снова!",
    "Возврат через маркетплейс": "Здравствуйте, {name}! Нам жаль, что {product} не подошёл. "
    "Оформить возврат можно в личном кабинете маркетплейса в разделе «Покупки».",
    "Уточнение деталей": "Здравствуйте, {name}! Спасибо, что написали. "
    "Уточните, пожалуйста, номер заказа и что именно случилось — мы разберёмся.",
}


@transaction.atomic
def load_demo() -> Workspace:
    """Create the demo user, workspace and templates, or return the existing workspace."""
    user = User.objects.filter(email=DEMO_EMAIL).first()
    if user is None:
        user = User.objects.create_user(DEMO_EMAIL, DEMO_PASSWORD, full_name="Демо Продавец")
    membership = (
        Membership.objects.filter(user=user, role=Membership.Role.OWNER)
        .select_related("workspace")
        .first()
    )
    workspace = membership.workspace if membership else create_workspace(DEMO_WORKSPACE, owner=user)
    for name, text in DEMO_TEMPLATES.items():
        ReplyTemplate.objects.get_or_create(workspace=workspace, name=name, defaults={"text": text})
    return workspace
