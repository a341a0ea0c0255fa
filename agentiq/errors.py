"""The project-wide base of domain failures (see CONVENTIONS §8)."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A failure the user can understand: a stable `code` and a translated `message`."""

    code: str = "domain_error"
    message: str | Promise = _("The action could not be completed.")

    def __init__(self, message: str | Promise | None = None, **params: object) -> None:
        if message is not None:
            self.message = message
        self.params = params
        super().__init__(str(self.message))

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text
