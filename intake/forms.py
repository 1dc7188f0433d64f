from django import forms

from accounts.models import Team

from .models import ChatConnection, Mailbox


class MailboxForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=Mailbox.Kind.choices)
    address = forms.EmailField(help_text="The address people write to, e.g. desk@example.com.")
    host = forms.CharField(max_length=200, required=False, help_text="IMAP server (IMAP mailboxes only).")
    port = forms.IntegerField(min_value=1, max_value=65535, initial=993)
    use_tls = forms.BooleanField(required=False, initial=True, label="Use TLS")
    username = forms.CharField(max_length=200, required=False, label="IMAP user")
    secret = forms.CharField(max_length=500, required=False, label="IMAP password",
                             widget=forms.PasswordInput(render_value=False), help_text="Stored, never shown again.")
    folder = forms.CharField(max_length=200, initial="INBOX")
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"), required=False, help_text="New tickets go to this team.")
    unknown_senders = forms.ChoiceField(choices=Mailbox.UnknownSenders.choices, label="Senders without an account",
                                        initial=Mailbox.UnknownSenders.REFUSE)


class ChatConnectionForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=ChatConnection.Kind.choices)
    secret = forms.CharField(max_length=500, label="Signing secret or security token",
                             widget=forms.PasswordInput(render_value=False), help_text="Stored, never shown again.")
    people = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="One per line: chat user id = username here, e.g. U024BE7LH = alice.")
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"), required=False)
    outbound_channel = forms.SlugField(required=False, label="Replies go through",
                                       help_text="Slug of the outbound channel that takes updates back to the chat.")

    def clean_people(self) -> dict:
        mapping = {}
        for number, line in enumerate(self.cleaned_data["people"].splitlines(), start=1):
            if not line.strip():
                continue
            if "=" not in line:
                raise forms.ValidationError(f"Line {number}: write it as 'chat id = username'.")
            external, username = (part.strip() for part in line.split("=", 1))
            if not external or not username:
                raise forms.ValidationError(f"Line {number}: both sides are needed.")
            mapping[external] = username
        return mapping


class ChatConnectionEditForm(ChatConnectionForm):
    """The same fields but the kind (the endpoints depend on it); an empty secret keeps the stored one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["kind"]
        self.fields["secret"].required = False
        self.fields["secret"].help_text = "Leave empty to keep the stored one; it is never shown."

    @staticmethod
    def initial_for(connection) -> dict:
        return {"name": connection.name, "team": connection.team_id, "outbound_channel": connection.outbound_channel,
                "people": "\n".join(f"{external} = {username}" for external, username in sorted((connection.people or {}).items()))}


def mailbox_initial(mailbox) -> dict:
    fields = ("name", "kind", "address", "host", "port", "use_tls", "username", "folder", "unknown_senders")
    return {**{name: getattr(mailbox, name) for name in fields}, "team": mailbox.team_id}


def mailbox_edit_form(*args, **kwargs) -> MailboxForm:
    form = MailboxForm(*args, **kwargs)
    form.fields["secret"].help_text = "Leave empty to keep the stored one; it is never shown."
    return form
