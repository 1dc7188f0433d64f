"""The desk's SMTP (or LMTP) receiver: `python -m intake.receiver`, started by `make run` when
MAIL_RECEIVER_PORT is set. It listens on 127.0.0.1 only (a relay or the organisation's mail
server delivers to it), accepts mail for the active receiver mailboxes and hands each message to
the same parser service as the IMAP poll."""
from __future__ import annotations

import asyncio
import logging
import os
import signal


def _mailbox_for(address: str):
    from django.db import close_old_connections

    from .models import Mailbox

    close_old_connections()
    return Mailbox.objects.filter(active=True, kind=Mailbox.Kind.RECEIVER, address__iexact=address.strip()).first()


def _ingest(raw: bytes, mailbox_id: int) -> str:
    from django.db import close_old_connections

    from . import services
    from .models import Mailbox

    close_old_connections()
    try:
        record = services.mail_ingest(raw=raw, mailbox=Mailbox.objects.filter(pk=mailbox_id).first())
        return record.outcome
    finally:
        close_old_connections()


class DeskHandler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        mailbox = await asyncio.to_thread(_mailbox_for, address)
        if mailbox is None:
            return "550 5.1.1 No such mailbox at this desk"
        envelope.rcpt_tos.append(address)
        envelope.__dict__.setdefault("desk_mailboxes", []).append(mailbox.pk)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        mailbox_id = envelope.__dict__.get("desk_mailboxes", [None])[0]
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            await asyncio.to_thread(_ingest, raw, mailbox_id)
        except Exception:  # noqa: BLE001 - the sender's server keeps the message and retries
            logging.getLogger(__name__).exception("could not store an inbound message")
            return "451 4.3.0 Could not store the message now; try again later"
        return "250 2.0.0 Message accepted"


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings.base")
    django.setup()
    from aiosmtpd.controller import Controller
    from aiosmtpd.lmtp import LMTP
    from aiosmtpd.smtp import SMTP
    from django.conf import settings

    port = int(os.environ.get("MAIL_RECEIVER_PORT") or settings.MAIL_RECEIVER_PORT or 0)
    if not port:
        raise SystemExit("Set MAIL_RECEIVER_PORT to the port the receiver listens on.")
    lmtp = settings.MAIL_RECEIVER_PROTOCOL.lower() == "lmtp"
    # Room above the import limit, so a message just over it is still read and answered.
    limit = settings.INBOUND_MAIL_MAX_BYTES * 2

    class DeskController(Controller):
        def factory(self):
            cls = LMTP if lmtp else SMTP
            return cls(self.handler, data_size_limit=limit, enable_SMTPUTF8=True, decode_data=False,
                       hostname="localhost", ident="Service Desk receiver")

    controller = DeskController(DeskHandler(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    logging.basicConfig(level=logging.INFO)
    print(f"[mail] {'LMTP' if lmtp else 'SMTP'} receiver on 127.0.0.1:{port}", flush=True)
    signal.sigwait({signal.SIGINT, signal.SIGTERM})
    controller.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    main()
