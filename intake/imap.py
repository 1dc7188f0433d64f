"""Reading an IMAP mailbox: each message is imported, and only once that has committed is it
marked (keyword `SdImported`, and seen). A crash in between re-reads the message next time, and
the Message-ID already recorded keeps it from being imported twice."""
from __future__ import annotations

import logging

from django.conf import settings
from imap_tools import AND, MailBox, MailBoxUnencrypted

from .models import Mailbox

logger = logging.getLogger(__name__)
IMPORTED = "SdImported"


def _connect(mailbox: Mailbox):
    cls = MailBox if mailbox.use_tls else MailBoxUnencrypted
    box = cls(mailbox.host, mailbox.port, timeout=settings.MAIL_IMAP_TIMEOUT)
    return box.login(mailbox.username, mailbox.secret, initial_folder=mailbox.folder or "INBOX")


def poll(mailbox: Mailbox, ingest) -> int:
    """Import every message not yet marked; `ingest(raw)` commits before the mark is set.
    Returns how many messages were handled."""
    handled = 0
    with _connect(mailbox) as box:
        uids = box.uids(AND(no_keyword=IMPORTED))
        for uid in uids:
            status, data = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in data or [] if isinstance(item, tuple) and len(item) > 1), None)
            if status != "OK" or raw is None:
                continue  # gone meanwhile (another poller took it)
            ingest(raw)
            box.flag([uid], [IMPORTED, "\\Seen"], True)
            handled += 1
    return handled
