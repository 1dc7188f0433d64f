"""Request shapes of the ticket pages. Business rules stay in `tickets.services`; these forms only
check that what the browser sent has the right shape, and carry the service's errors back."""
from __future__ import annotations

import re

from django import forms

from servicedesk.forms import ServiceErrorsMixin
from servicedesk.widgets import FastRadioSelect, FastSelect, FastTextarea, ReadyChoices

from .models import Kind, Priority, Status, Visibility

IMPACT_CHOICES = [
    (1, "Many people: a department, a site or everyone"),
    (2, "A team: me and the people I work with"),
    (3, "Just me"),
]
URGENCY_CHOICES = [
    (1, "Work has stopped: it cannot wait"),
    (2, "Work is slowed down: it is getting in the way"),
    (3, "It can wait: there is a way around it for now"),
]
VISIBILITY_CHOICES = [
    (Visibility.PRIVATE, "Private: only you and the service desk can see it"),
    (Visibility.PUBLIC, "Public: colleagues can see it and say \u201cme too\u201d"),
]
SCORE_CHOICES = [
    (5, "5 \u00b7 Excellent"),
    (4, "4 \u00b7 Good"),
    (3, "3 \u00b7 Okay"),
    (2, "2 \u00b7 Poor"),
    (1, "1 \u00b7 Very poor"),
]
REPLY_CHOICES = [("public", "Public reply: the requester and followers see it"), ("internal", "Internal note: agents only")]


class TicketCreateForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(
        label="What do you need?",
        choices=[(Kind.INCIDENT, "Something is broken or not working (incident)"),
                 (Kind.REQUEST, "I would like something (request)")],
        initial=Kind.INCIDENT,
        widget=forms.RadioSelect,
    )
    title = forms.CharField(
        label="Summary",
        max_length=200,
        help_text="One line, in your own words, e.g. \u201cVPN drops every few minutes\u201d.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "true"}),
    )
    description = forms.CharField(
        label="Details",
        required=False,
        max_length=50_000,
        help_text="What happened, what you expected, and anything you already tried. Markdown works.",
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    service = forms.TypedChoiceField(
        label="Service", required=False, coerce=int, empty_value=None,
        help_text="Leave it as \u201cNot sure\u201d if you don't know: we will route it.",
    )
    impact = forms.TypedChoiceField(label="Who is affected?", choices=IMPACT_CHOICES, coerce=int, initial=3,
                                    widget=forms.RadioSelect)
    urgency = forms.TypedChoiceField(label="How urgent is it?", choices=URGENCY_CHOICES, coerce=int, initial=3,
                                     widget=forms.RadioSelect)
    visibility = forms.ChoiceField(label="Who can see it?", choices=VISIBILITY_CHOICES, initial=Visibility.PRIVATE,
                                   widget=forms.RadioSelect)
    # Set by the page when matching incidents were shown while the summary was typed.
    suggestions_shown = forms.BooleanField(required=False, widget=forms.HiddenInput)
    suggestions_query = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, services=(), agent: bool = False, suggestions_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if suggestions_url:
            # As the summary is typed, ask for matching open incidents (see templates/tickets/portal.html).
            self.fields["title"].widget.attrs.update({
                "hx-get": suggestions_url,
                "hx-trigger": "input changed delay:300ms, search",
                "hx-target": "#suggestions",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
                "aria-controls": "suggestions",
            })
        self.service_objects = {s.pk: s for s in services}
        self.fields["service"].choices = [("", "Not sure")] + [(s.pk, s.name) for s in services]
        if agent:
            self.fields["kind"].choices = [
                *self.fields["kind"].choices,
                (Kind.PROBLEM, "The cause behind several incidents (problem)"),
            ]

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Give the ticket a summary.")
        return title

    def clean_service(self):
        value = self.cleaned_data.get("service")
        return self.service_objects.get(value) if value is not None else None


class CommentForm(ServiceErrorsMixin, forms.Form):
    body = forms.CharField(
        label="Your reply",
        max_length=20_000,
        help_text="Markdown works. Mention someone with @username, another ticket by its number (e.g. INC-000042).",
        widget=FastTextarea(attrs={"rows": 5, "id": "reply-body"}),
        error_messages={"required": "Write something before sending."},
    )
    reply_as = forms.ChoiceField(label="Send as", choices=REPLY_CHOICES, initial="public", widget=FastRadioSelect)
    file = forms.FileField(label="Attach a file", required=False,
                           help_text="Images, PDFs, text, CSV, Office documents or ZIP, up to 10 MB.")

    def __init__(self, *args, agent: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not agent:
            del self.fields["reply_as"]

    @property
    def internal(self) -> bool:
        return self.cleaned_data.get("reply_as") == "internal"


class RatingForm(ServiceErrorsMixin, forms.Form):
    score = forms.TypedChoiceField(label="How did we do?", choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect,
                                   error_messages={"required": "Choose a score from 1 to 5."})
    comment = forms.CharField(label="Anything to add?", required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))


class ReopenForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label="What is still wrong?", required=False, max_length=5000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ProblemResolveForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label="What fixed it?", max_length=20_000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Posted as a public reply on the problem and on each incident resolved with it.",
        error_messages={"required": "Say what fixed it."},
    )
    resolve_incidents = forms.BooleanField(label="Also resolve its open incidents", required=False, initial=True)


class TicketUpdateForm(ServiceErrorsMixin, forms.Form):
    """The agent controls. Only the fields that were sent are changed: a missing field means
    "leave as is", an empty assignee or team means "nobody"."""

    status = forms.ChoiceField(label="Status", choices=Status.choices, required=False, widget=FastSelect)
    assignee = forms.ChoiceField(label="Assignee", required=False, widget=FastSelect)
    priority = forms.TypedChoiceField(label="Priority", choices=Priority.choices, coerce=int, required=False,
                                      empty_value=None, widget=FastSelect)
    team = forms.TypedChoiceField(label="Team", required=False, coerce=int, empty_value=None, widget=FastSelect)
    service = forms.TypedChoiceField(label="Service", required=False, coerce=int, empty_value=None, widget=FastSelect)
    kind = forms.ChoiceField(label="Type", required=False, widget=FastSelect,
                             choices=[(Kind.INCIDENT, "Incident"), (Kind.REQUEST, "Request")])

    def __init__(self, *args, user=None, agents=(), teams=(), services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.agent_objects = {a.username: a for a in agents}
        self.team_objects = {t.pk: t for t in teams}
        self.service_objects = {s.pk: s for s in services}
        self.fields["assignee"].choices = ReadyChoices(
            [("", "Nobody"), ("me", "Me")] + [(a.username, a.display_name) for a in agents]
        )
        self.fields["team"].choices = ReadyChoices([("", "No team")] + [(t.pk, t.name) for t in teams])
        self.fields["service"].choices = ReadyChoices([("", "No service")] + [(s.pk, s.name) for s in services])

    def changes(self) -> dict:
        """Keyword arguments for `services.ticket_update`, for the fields that were sent."""
        sent = self.data
        values: dict = {}
        if sent.get("status"):
            values["status"] = self.cleaned_data["status"]
        if "assignee" in sent:
            name = self.cleaned_data["assignee"]
            values["assignee"] = self.user if name == "me" else self.agent_objects.get(name) if name else None
        if sent.get("priority"):
            values["priority"] = self.cleaned_data["priority"]
        if "team" in sent:
            team_id = self.cleaned_data["team"]
            values["team"] = self.team_objects.get(team_id) if team_id is not None else None
        if "service" in sent and self.service_objects:
            service_id = self.cleaned_data["service"]
            values["service"] = self.service_objects.get(service_id) if service_id is not None else None
        if sent.get("kind"):
            values["kind"] = self.cleaned_data["kind"]
        return values


class BulkUpdateForm(ServiceErrorsMixin, forms.Form):
    ACTIONS = [("assign_me", "Assign to me"), ("assign", "Assign to\u2026"), ("status", "Set status\u2026")]

    action = forms.ChoiceField(label="Action", choices=ACTIONS)
    assignee = forms.ChoiceField(label="Assign to", required=False, widget=FastSelect)
    status = forms.ChoiceField(label="New status", required=False, choices=[("", "Choose a status")] + Status.choices,
                               widget=FastSelect)

    def __init__(self, *args, agents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.agent_objects = {a.username: a for a in agents}
        self.fields["assignee"].choices = ReadyChoices([("", "Choose an agent"), ("none", "Nobody (unassign)")] + [
            (a.username, a.display_name) for a in agents
        ])

    def ticket_ids(self) -> list[int]:
        ids = []
        for raw in self.data.getlist("ticket") if hasattr(self.data, "getlist") else []:
            if str(raw).isdecimal():
                ids.append(int(raw))
        return list(dict.fromkeys(ids))[:200]

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "assign" and not data.get("assignee"):
            self.add_error("assignee", "Choose who to assign the tickets to.")
        if action == "status" and not data.get("status"):
            self.add_error("status", "Choose the new status.")
        if not self.ticket_ids():
            raise forms.ValidationError("Select at least one ticket.")
        return data

    def changes(self, user) -> dict:
        action = self.cleaned_data["action"]
        if action == "assign_me":
            return {"assignee": user}
        if action == "assign":
            name = self.cleaned_data["assignee"]
            return {"assignee": None if name == "none" else self.agent_objects[name]}
        return {"status": self.cleaned_data["status"]}


class SavedViewForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label="Name this view", max_length=80,
                           error_messages={"required": "Give the view a name."})


class LinkForm(ServiceErrorsMixin, forms.Form):
    """A ticket chosen by number ("INC-000042" or 42): the incident to link, the problem, the target of a merge."""

    ticket = forms.CharField(label="Ticket number", max_length=20,
                             error_messages={"required": "Give the ticket's number, e.g. INC-000042."})

    def clean_ticket(self):
        raw = self.cleaned_data["ticket"].strip().upper()
        match = re.fullmatch(r"(?:(INC|REQ|PRB)-)?0*(\d{1,12})", raw)
        if not match:
            raise forms.ValidationError("Give a ticket number such as INC-000042.")
        return int(match.group(2))


class ProblemCreateForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(label="Problem title", max_length=200, required=False,
                            help_text="Left empty, the problem takes the incident's title.")


class CannedResponseForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(label="Title", max_length=120, error_messages={"required": "Give it a title."})
    body = forms.CharField(
        label="Text", max_length=10_000, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Placeholders: {requester.first_name}, {requester.name}, {ticket.number}, {ticket.title}, "
                  "{ticket.service}, {agent.first_name}, {agent.name}.",
        error_messages={"required": "Write the text to insert."},
    )
    shared = forms.BooleanField(label="Share with my team", required=False)
    set_status = forms.ChoiceField(label="Also set the status to", required=False,
                                   choices=[("", "Leave as is")] + Status.choices, widget=FastSelect)
    set_priority = forms.TypedChoiceField(label="Also set the priority to", required=False, coerce=int, empty_value=None,
                                          choices=[("", "Leave as is")] + Priority.choices, widget=FastSelect)
