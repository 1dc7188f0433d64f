"""Request shapes of the community pages. Business rules stay in `communities.services`; these forms
check what the browser sent and carry the service's errors back to the fields they name."""
from __future__ import annotations

from django import forms

from servicedesk.forms import ServiceErrorsMixin

from .models import Community, Idea

MARKDOWN_HELP = "Markdown works. Mention someone with @username."


class CommunityForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    slug = forms.CharField(label="Short name for the address", max_length=60, required=False,
                           help_text="Letters, digits and hyphens; made from the name if left empty.")
    description = forms.CharField(label="What is it about?", required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(label="Who can see inside?", choices=Community.Visibility.choices,
                                   initial=Community.Visibility.OPEN, widget=forms.RadioSelect)


class QuestionForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(label="Your question", max_length=200,
                            help_text="One line, e.g. \u201cHow do I share a calendar with a team?\u201d",
                            widget=forms.TextInput(attrs={"autocomplete": "off"}))
    body = forms.CharField(label="Details", required=False, max_length=20_000, help_text=MARKDOWN_HELP,
                           widget=forms.Textarea(attrs={"rows": 6}))
    tags = forms.CharField(label="Tags", required=False, max_length=200,
                           help_text="Up to 5, separated by commas (for example: vpn, home-office).",
                           widget=forms.TextInput(attrs={"autocomplete": "off"}))


class BodyForm(ServiceErrorsMixin, forms.Form):
    body = forms.CharField(label="Your answer", max_length=20_000, help_text=MARKDOWN_HELP,
                           widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, label: str = "Your answer", rows: int = 5, max_length: int = 20_000, help_text=MARKDOWN_HELP,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].label = label
        self.fields["body"].max_length = max_length
        self.fields["body"].help_text = help_text
        self.fields["body"].widget.attrs["rows"] = rows


class ArticleForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    body = forms.CharField(label="Article", max_length=100_000, help_text="Markdown works: headings, lists, links, code.",
                           widget=forms.Textarea(attrs={"rows": 14}))
    note = forms.CharField(label="Reason for the change", max_length=200,
                           help_text="Kept with this revision, so readers and reviewers know why it changed.")


class IdeaForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(label="Your idea", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    body = forms.CharField(label="Why it would help", required=False, max_length=20_000, help_text=MARKDOWN_HELP,
                           widget=forms.Textarea(attrs={"rows": 3}))


class IdeaStatusForm(ServiceErrorsMixin, forms.Form):
    status = forms.ChoiceField(label="Status", choices=Idea.Status.choices)
    note = forms.CharField(label="Note to the author and voters", max_length=500, required=False)


class PollForm(ServiceErrorsMixin, forms.Form):
    question = forms.CharField(label="Poll question", max_length=200)
    options = forms.CharField(label="Options", max_length=1300, widget=forms.Textarea(attrs={"rows": 4}),
                              help_text="One per line, 2 to 10.")
    closes_at = forms.DateTimeField(label="Voting closes at (UTC)", help_text="For example 2030-01-31 17:00.",
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def option_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines() if line.strip()]


class InviteForm(ServiceErrorsMixin, forms.Form):
    username = forms.CharField(label="Username to invite", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"}))


class BridgeForm(ServiceErrorsMixin, forms.Form):
    target = forms.ChoiceField(label="Related community")


class ServicesForm(ServiceErrorsMixin, forms.Form):
    services = forms.TypedMultipleChoiceField(label="Services this community helps with", coerce=int, required=False,
                                              widget=forms.CheckboxSelectMultiple)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=200)
