"""Demo data of the intelligence app (called by the demo loader; idempotent)."""

from inbox.models import AutoReplyRule, Channel, Workspace

DEMO_RULE_NAME = "Автоответ на отзывы 5★"


def install_demo_rules(workspace: Workspace) -> AutoReplyRule:
    """A publish-mode rule answering 5★ reviews (positive or neutral) with the AI draft."""
    rule, _created = AutoReplyRule.objects.for_workspace(workspace).get_or_create(
        workspace=workspace,
        name=DEMO_RULE_NAME,
        defaults={
            "mode": AutoReplyRule.Mode.PUBLISH,
            "channel": Channel.REVIEW,
            "rating_min": 5,
            "rating_max": 5,
            "source": AutoReplyRule.Source.AI_DRAFT,
            "text_presence": AutoReplyRule.TextPresence.ANY,
            "publish_delay_minutes": 0,
            "priority_order": 10,
        },
    )
    return rule
