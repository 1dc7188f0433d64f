from django.apps import AppConfig


class IntakeConfig(AppConfig):
    """Inbound channels: e-mail (IMAP mailboxes, an SMTP/LMTP receiver) and chat (Slack, Teams)."""

    name = "intake"
    verbose_name = "Inbound channels"
