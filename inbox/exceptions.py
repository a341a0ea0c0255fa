from django.utils.translation import gettext_lazy as _

from agentiq.errors import DomainError


class EmailAlreadyRegistered(DomainError):
    code = "email_taken"
    message = _("A user with this e-mail address already exists.")


class LastOwnerCannotLeave(DomainError):
    code = "last_owner"
    message = _("A workspace must keep at least one owner.")


# --- Onboarding and settings ---------------------------------------------------------------
class ConnectionCheckFailed(DomainError):
    """The marketplace refused the credentials (or is unreachable); the text comes from it."""

    code = "connection_check_failed"
    message = _("The marketplace did not accept the connection.")


class TemplateNameTaken(DomainError):
    code = "template_name_taken"
    message = _("A template with this name already exists.")


class OwnerRoleRequired(DomainError):
    code = "owner_required"
    message = _("Only an owner can do this.")


class AlreadyMember(DomainError):
    code = "already_member"
    message = _("This person is already a member of the workspace.")


class ReplyLengthInvalid(DomainError):
    code = "reply_length"
    message = _("The reply must be from %(min)s to %(max)s characters long; it has %(length)s.")


class AlreadyAnswered(DomainError):
    code = "already_answered"
    message = _(
        "This item already has an answer. Edit the published answer instead of sending a second one."
    )


class DuplicateChatMessage(DomainError):
    code = "duplicate_message"
    message = _("This message was sent to the buyer a moment ago; it is not sent twice.")


class AnswerNotEditable(DomainError):
    code = "answer_not_editable"
    message = _("The published answer can no longer be edited on the marketplace.")


class ReplyWindowClosed(DomainError):
    code = "reply_window_closed"
    message = _("The marketplace no longer accepts answers to this item.")
