"""Raw e-mails as mail clients, auto-responders and mail servers write them."""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone


def _base(sender: str, subject: str, message_id: str | None, to: str = "desk@localhost") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = message_id or make_msgid(domain="mail.example.com")
    return msg


def new_message(sender="Alice Martin <alice@example.com>", subject="Laptop will not boot", body="It shows a black screen.",
                message_id=None, attachment: tuple[str, str, bytes] | None = None) -> bytes:
    msg = _base(sender, subject, message_id)
    msg.set_content(body)
    if attachment:
        name, mime, data = attachment
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


def html_message(sender="alice@example.com", subject="Screen flickers", message_id=None) -> bytes:
    msg = _base(sender, subject, message_id)
    msg.set_content("<p>The screen <b>flickers</b>.</p><script>alert(1)</script>", subtype="html")
    return bytes(msg)


def reply(sender="alice@example.com", subject="Re: [INC-000001] Laptop will not boot", new="It works again, thanks.",
          in_reply_to: str | None = None, message_id=None) -> bytes:
    msg = _base(sender, subject, message_id)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(
        f"{new}\n\nOn Mon, 30 Nov 2026 at 10:00, Service Desk <desk@localhost> wrote:\n"
        "> Bob replied on your ticket: have you tried turning it off and on again?\n> \n> Service Desk\n"
    )
    return bytes(msg)


def auto_reply(sender="alice@example.com", subject="Out of office: [INC-000001] Laptop") -> bytes:
    msg = _base(sender, subject, None)
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Autoreply"] = "yes"
    msg.set_content("I am out of the office until Monday.")
    return bytes(msg)


def bounce(failed="gone@example.com") -> bytes:
    msg = _base("MAILER-DAEMON@mail.example.com", "Undelivered Mail Returned to Sender", None)
    msg.set_content("Your message could not be delivered.")
    msg.make_mixed()
    msg.set_type("multipart/report")
    msg.set_param("report-type", "delivery-status")
    status = EmailMessage()
    status.set_type("message/delivery-status")
    status.set_payload([_fields({"Reporting-MTA": "dns; mail.example.com"}),
                        _fields({"Final-Recipient": f"rfc822; {failed}", "Action": "failed", "Status": "5.1.1"})])
    msg.attach(status)
    return bytes(msg)


def _fields(values: dict) -> EmailMessage:
    block = EmailMessage()
    for name, value in values.items():
        block[name] = value
    return block


def broken_mime(sender="alice@example.com") -> bytes:
    return (
        f"From: {sender}\r\nTo: desk@localhost\r\nSubject: Broken\r\nMessage-ID: <broken.1@mail.example.com>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n--nothing\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    ).encode()
