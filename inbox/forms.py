from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from inbox.models import (
    AutoReplyRule,
    Channel,
    Intent,
    Interaction,
    Lead,
    Marketplace,
    Membership,
    Priority,
    Product,
    ReplyTemplate,
    Sentiment,
    Workspace,
)


class SignUpForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    company = forms.CharField(label=_("Company"), max_length=200)
    email = forms.EmailField(label=_("E-mail"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class WorkspaceForm(forms.Form):
    name = forms.CharField(label=_("Company"), max_length=200)


class SwitchWorkspaceForm(forms.Form):
    workspace = forms.IntegerField(widget=forms.HiddenInput)


class LeadForm(forms.ModelForm):
    class Meta:
        model = Lead
        fields = ["name", "email", "company", "phone", "message"]
        labels = {
            "name": _("Your name"),
            "email": _("E-mail"),
            "company": _("Company"),
            "phone": _("Phone"),
            "message": _("What would you like to see?"),
        }
        widgets = {"message": forms.Textarea(attrs={"rows": 3})}


# --- Onboarding and settings (accounts, SLA, templates, auto-replies, stop-words, team) ------
# Secrets are PasswordInput with render_value=False: a re-rendered form never echoes them.
class AccountConnectForm(forms.Form):
    marketplace = forms.ChoiceField(label=_("Marketplace"), choices=Marketplace.choices)
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        help_text=_("How this shop is shown in AgentIQ, e.g. “WB main shop”."),
    )
    wb_token = forms.CharField(
        label=_("WB API token"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "Seller portal → Settings → API access. Give it the Feedbacks and questions "
            "and Buyer chat categories."
        ),
    )
    ozon_client_id = forms.CharField(
        label=_("Ozon Client-Id"), required=False, max_length=100, strip=True
    )
    ozon_api_key = forms.CharField(
        label=_("Ozon Api-Key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Seller portal → Settings → API keys."),
    )
    base_url = forms.URLField(
        label=_("API base URL (advanced)"),
        required=False,
        assume_scheme="https",
        help_text=_("Leave empty for the real marketplace. Used for the simulator."),
    )
    sandbox_mode = forms.BooleanField(
        label=_("Sandbox mode: store replies, never publish them"), required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        marketplace = data.get("marketplace")
        if marketplace == Marketplace.WB and not data.get("wb_token"):
            self.add_error("wb_token", _("Enter the WB API token."))
        if marketplace == Marketplace.OZON:
            if not data.get("ozon_client_id"):
                self.add_error("ozon_client_id", _("Enter the Ozon Client-Id."))
            if not data.get("ozon_api_key"):
                self.add_error("ozon_api_key", _("Enter the Ozon Api-Key."))
        return data

    def credentials(self) -> dict[str, str]:
        data = self.cleaned_data
        if data["marketplace"] == Marketplace.OZON:
            return {"client_id": data["ozon_client_id"], "api_key": data["ozon_api_key"]}
        return {"token": data["wb_token"]}

    def account_fields(self) -> dict[str, Any]:
        """Keyword arguments of `connect_account` / `build_account`."""
        data = self.cleaned_data
        return {
            "marketplace": data["marketplace"],
            "name": data["name"],
            "credentials": self.credentials(),
            "base_url": data["base_url"],
            "sandbox_mode": data["sandbox_mode"],
        }


class AccountCredentialsForm(forms.Form):
    """New credentials for an existing account (its marketplace decides which fields count)."""

    wb_token = AccountConnectForm.base_fields["wb_token"]
    ozon_client_id = AccountConnectForm.base_fields["ozon_client_id"]
    ozon_api_key = AccountConnectForm.base_fields["ozon_api_key"]

    def __init__(self, *args: Any, marketplace: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.marketplace = marketplace
        keep = (
            ("wb_token",) if marketplace == Marketplace.WB else ("ozon_client_id", "ozon_api_key")
        )
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
            else:
                self.fields[name].required = True

    def credentials(self) -> dict[str, str]:
        data = self.cleaned_data
        if self.marketplace == Marketplace.OZON:
            return {"client_id": data["ozon_client_id"], "api_key": data["ozon_api_key"]}
        return {"token": data["wb_token"]}


class AccountUpdateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    sandbox_mode = forms.BooleanField(
        label=_("Sandbox mode: store replies, never publish them"), required=False
    )
    enabled_channels = forms.MultipleChoiceField(
        label=_("Channels to sync"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class AccountToggleForm(forms.Form):
    is_enabled = forms.BooleanField(required=False)


class SLARulesForm(forms.Form):
    """One minutes field per channel × priority: `minutes_<channel>_<priority>`."""

    def __init__(self, *args: Any, initial_minutes: dict[tuple[str, str], int], **kwargs: Any):
        super().__init__(*args, **kwargs)
        for channel, channel_label in Channel.choices:
            for priority, priority_label in Priority.choices:
                self.fields[self.field_name(channel, priority)] = forms.IntegerField(
                    label=f"{channel_label} · {priority_label}",
                    min_value=1,
                    max_value=60 * 24 * 30,
                    initial=initial_minutes.get((channel, priority)),
                    widget=forms.NumberInput(attrs={"class": "minutes"}),
                )

    @staticmethod
    def field_name(channel: str, priority: str) -> str:
        return f"minutes_{channel}_{priority}"

    def grid(self) -> list[tuple[str, list[forms.BoundField]]]:
        """Rows of the table: (channel label, one bound field per priority)."""
        return [
            (
                str(channel_label),
                [self[self.field_name(channel, priority)] for priority in Priority.values],
            )
            for channel, channel_label in Channel.choices
        ]

    def minutes(self) -> dict[tuple[str, str], int]:
        return {
            (channel, priority): self.cleaned_data[self.field_name(channel, priority)]
            for channel in Channel.values
            for priority in Priority.values
        }


class ReplyTemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    text = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("{name} and {product} are replaced with the customer's name and the product."),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[("", _("Any channel")), *Channel.choices],
        required=False,
    )


class AutoReplyRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    is_enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    marketplace = forms.ChoiceField(
        label=_("Marketplace"),
        choices=[("", _("Any marketplace")), *Marketplace.choices],
        required=False,
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.REVIEW)
    rating_min = forms.IntegerField(label=_("Minimum rating"), min_value=1, max_value=5, initial=5)
    rating_max = forms.IntegerField(label=_("Maximum rating"), min_value=1, max_value=5, initial=5)
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.none(),
        required=False,
        empty_label=_("Any product"),
    )
    brand = forms.CharField(label=_("Brand"), max_length=200, required=False)
    text_presence = forms.ChoiceField(
        label=_("Text"),
        choices=AutoReplyRule.TextPresence.choices,
        initial=AutoReplyRule.TextPresence.ANY,
    )
    sentiments = forms.MultipleChoiceField(
        label=_("Sentiments"),
        choices=Sentiment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: positive and neutral only."),
    )
    source = forms.ChoiceField(
        label=_("Reply source"),
        choices=AutoReplyRule.Source.choices,
        initial=AutoReplyRule.Source.AI_DRAFT,
    )
    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=ReplyTemplate.objects.none(),
        required=False,
        empty_label=_("No template (the AI draft)"),
    )
    publish_delay_minutes = forms.IntegerField(
        label=_("Publish delay, minutes"), min_value=0, max_value=60 * 24 * 7, initial=0
    )
    allow_low_ratings = forms.BooleanField(
        label=_("Allow ratings of 3 and below and negative sentiment"), required=False
    )
    priority_order = forms.IntegerField(
        label=_("Order"),
        min_value=0,
        max_value=100000,
        initial=100,
        help_text=_("Rules with a lower number are tried first."),
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        product_field = self.fields["product"]
        template_field = self.fields["template"]
        assert isinstance(product_field, forms.ModelChoiceField)
        assert isinstance(template_field, forms.ModelChoiceField)
        product_field.queryset = Product.objects.for_workspace(workspace).order_by("name")
        template_field.queryset = ReplyTemplate.objects.for_workspace(workspace).order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("rating_min"), data.get("rating_max")
        if low is not None and high is not None and low > high:
            self.add_error("rating_max", _("The maximum rating must not be below the minimum."))
        if data.get("source") == AutoReplyRule.Source.TEMPLATE and not data.get("template"):
            self.add_error("template", _("Choose the template to answer with."))
        return data


class AutoReplyModeForm(forms.Form):
    mode = forms.ChoiceField(choices=AutoReplyRule.Mode.choices)


class StopWordsForm(forms.Form):
    stop_words = forms.CharField(
        label=_("Stop-words"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_(
            "One word or phrase per line. A reply containing any of them is never published."
        ),
    )

    def clean_stop_words(self) -> list[str]:
        lines = self.cleaned_data["stop_words"].splitlines()
        too_long = [line for line in lines if len(line.strip()) > 100]
        if too_long:
            raise forms.ValidationError(_("Each line must be at most 100 characters."))
        if len(lines) > 1000:
            raise forms.ValidationError(_("At most 1000 stop-words."))
        return [line.strip() for line in lines if line.strip()]


class MemberInviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    full_name = forms.CharField(
        label=pgettext_lazy("person", "Name"), max_length=150, required=False
    )
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)

    def __init__(self, *args: Any, role_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = role_choices
        role_field.initial = Membership.Role.AGENT


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


# --- The unified inbox -------------------------------------------------------------------------


def _with_any(label: Any, choices: Any) -> list[tuple[str, Any]]:
    return [("", label), *choices]


class FlatSelect(forms.Select):
    """A `<select>` of plain (value, label) choices built in Python.

    Django renders each option through a template; the inbox renders this form on every
    request, with a product list that can hold thousands of options.
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        chosen = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option, mark_safe(" selected") if str(option) in chosen else "", label)
                for option, label in self.choices
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(final_attrs), options)


class IdFilterField(forms.TypedChoiceField):
    """A filter by id (or one of its fixed choices). Any positive id is valid: the inbox query
    is scoped to the workspace, so a foreign id matches nothing, and the list can be filtered
    without loading the choices (they are only what the `<select>` offers)."""

    def valid_value(self, value: Any) -> bool:
        return str(value).isdecimal() or super().valid_value(value)


class InboxFilterForm(forms.Form):
    """The inbox filters, read from the query string. Parsing needs no queries (ids are checked
    for shape only); the choices of accounts, products and members are passed in when the form
    is rendered. Invalid values are ignored (a stale bookmark still opens)."""

    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    marketplace = forms.ChoiceField(
        label=_("Marketplace"),
        required=False,
        widget=FlatSelect,
        choices=_with_any(_("All marketplaces"), Marketplace.choices),
    )
    account = IdFilterField(
        label=_("Account"), coerce=int, required=False, empty_value=None, widget=FlatSelect
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        widget=FlatSelect,
        choices=_with_any(_("All channels"), Channel.choices),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        widget=FlatSelect,
        choices=[("", _("Not closed")), ("all", _("Any status")), *Interaction.Status.choices],
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        widget=FlatSelect,
        choices=_with_any(_("Any priority"), Priority.choices),
    )
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        coerce=int,
        required=False,
        empty_value=None,
        widget=FlatSelect,
        choices=_with_any(_("Any rating"), [(n, "★" * n) for n in range(5, 0, -1)]),
    )
    sentiment = forms.ChoiceField(
        label=_("Sentiment"),
        required=False,
        widget=FlatSelect,
        choices=_with_any(_("Any sentiment"), Sentiment.choices),
    )
    intent = forms.ChoiceField(
        label=_("Topic"),
        required=False,
        widget=FlatSelect,
        choices=_with_any(_("Any topic"), Intent.choices),
    )
    product = IdFilterField(
        label=_("Product"), coerce=int, required=False, empty_value=None, widget=FlatSelect
    )
    assignee = IdFilterField(label=_("Assignee"), required=False, widget=FlatSelect)
    needs_response = forms.BooleanField(label=_("Needs a response"), required=False)
    sla = forms.ChoiceField(
        label=_("SLA"),
        required=False,
        widget=FlatSelect,
        choices=[("", _("Any deadline")), ("overdue", _("Overdue")), ("at_risk", _("At risk"))],
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        widget=FlatSelect,
        choices=[
            ("newest", _("Newest first")),
            ("sla", _("By SLA deadline")),
            ("rating", _("Lowest rating first")),
        ],
    )

    FILTER_FIELDS = (
        "q", "marketplace", "account", "channel", "status", "priority", "rating",
        "sentiment", "intent", "product", "assignee", "needs_response", "sla", "sort",
    )  # fmt: skip

    def __init__(self, data: Any = None, *, choices: Any = None) -> None:
        """`choices`: an `inbox.selectors.InboxChoices`, when the form is to be rendered."""
        super().__init__(data)
        accounts = [(a.pk, str(a)) for a in choices.accounts] if choices else []
        members = [(str(pk), name) for pk, name in choices.members] if choices else []
        self.fields["account"].choices = _with_any(_("All accounts"), accounts)  # type: ignore[attr-defined]
        self.fields["product"].choices = _with_any(  # type: ignore[attr-defined]
            _("All products"), choices.products if choices else []
        )
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            ("", _("Anyone")),
            ("me", _("Me")),
            ("none", _("Unassigned")),
            *members,
        ]

    def filters(self) -> dict[str, Any]:
        """The cleaned filters, with any invalid field reset to "no filter"."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        result: dict[str, Any] = {}
        for name in self.FILTER_FIELDS:
            if name in self.errors or name not in cleaned:
                result[name] = None if name in ("account", "rating", "product") else ""
                if name == "needs_response":
                    result[name] = False
            else:
                result[name] = cleaned[name]
        result["sort"] = result["sort"] or "newest"
        return result


class IdListField(forms.Field):
    """Many `name=<id>` values (checkboxes) as a list of positive ints."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            ids = [int(v) for v in value]
        except (TypeError, ValueError) as error:
            raise forms.ValidationError(_("Invalid selection.")) from error
        return [i for i in ids if i > 0]


class InboxCursorForm(forms.Form):
    cursor = forms.CharField(required=False, max_length=100)
    fingerprint = forms.CharField(required=False, max_length=100)


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Reply"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6})
    )
    is_edit = forms.BooleanField(required=False, widget=forms.HiddenInput)


class GuardrailCheckForm(forms.Form):
    text = forms.CharField(required=False, max_length=5000, strip=False)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Private note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class StatusForm(forms.Form):
    SNOOZE_CHOICES = [
        (1, _("1 hour")),
        (4, _("4 hours")),
        (24, _("Tomorrow")),
        (72, _("3 days")),
    ]
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (s, label) for s, label in Interaction.Status.choices if s != Interaction.Status.NEW
        ],
    )
    snooze_hours = forms.TypedChoiceField(
        label=_("Snooze for"), coerce=int, choices=SNOOZE_CHOICES, required=False, empty_value=None
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("status") == Interaction.Status.SNOOZED and not cleaned.get("snooze_hours"):
            self.add_error("snooze_hours", _("Choose how long to snooze."))
        return cleaned


class ProductSearchForm(forms.Form):
    """What was typed into the product filter's search box, and the product chosen now."""

    product_q = forms.CharField(max_length=100, required=False)
    product = IdFilterField(coerce=int, required=False, empty_value=None)


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(
        label=_("Assignee"), coerce=int, required=False, empty_value=None
    )

    def __init__(
        self, data: Any = None, *, members: Sequence[tuple[int, str]] = (), **kwargs: Any
    ) -> None:
        """`members`: (user id, name), e.g. `inbox.selectors.member_choices`."""
        super().__init__(data, **kwargs)
        self.fields["assignee"].choices = [("", _("Unassigned")), *members]  # type: ignore[attr-defined]


class TemplateInsertForm(forms.Form):
    template = forms.TypedChoiceField(label=_("Template"), coerce=int)
    text = forms.CharField(required=False, max_length=5000, strip=False, widget=forms.HiddenInput)

    def __init__(self, data: Any = None, *, templates: Any = (), **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.fields["template"].choices = [(t.pk, t.name) for t in templates]  # type: ignore[attr-defined]


class BulkActionForm(forms.Form):
    ACTIONS = [("publish", _("Approve and publish drafts")), ("close", _("Close"))]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    scope = forms.ChoiceField(
        choices=[("selected", _("Selected")), ("all", _("Everything matching the filter"))],
        initial="selected",
    )
    ids = IdListField(required=False)
    filter = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("scope") == "selected" and not cleaned.get("ids"):
            raise forms.ValidationError(_("Select at least one item."))
        return cleaned


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("View name"), max_length=100)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    is_shared = forms.BooleanField(label=_("Share with the team"), required=False)


class PresenceForm(forms.Form):
    typing = forms.BooleanField(required=False)
