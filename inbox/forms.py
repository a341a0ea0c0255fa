from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from inbox.models import Lead


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
