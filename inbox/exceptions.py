from django.utils.translation import gettext_lazy as _

from agentiq.errors import DomainError


class EmailAlreadyRegistered(DomainError):
    code = "email_taken"
    message = _("A user with this e-mail address already exists.")


class LastOwnerCannotLeave(DomainError):
    code = "last_owner"
    message = _("A workspace must keep at least one owner.")
