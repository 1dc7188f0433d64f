"""A throwaway Dovecot IMAP server (Debian's dovecot-imapd) for the mail intake tests."""
from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .processes import free_port, wait_for

DOVECOT = "/usr/sbin/dovecot"


@dataclass
class Dovecot:
    root: Path
    port: int
    user: str
    password: str
    popen: subprocess.Popen

    def stop(self) -> None:
        """A throwaway server: its whole process group is killed (a clean shutdown takes seconds)."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def available() -> bool:
    try:
        pwd.getpwnam("dovecot")
        pwd.getpwnam("dovenull")
    except KeyError:
        return False
    return os.access(DOVECOT, os.X_OK) and os.geteuid() == 0


def start(user: str = "desk", password: str = "desk-secret") -> Dovecot:
    # Outside pytest's private tmp dirs: Dovecot's mail processes run as the unprivileged dovecot user.
    root = Path(tempfile.mkdtemp(prefix="sd-dovecot-"))
    root.chmod(0o755)
    for name in ("run", "state", "mail"):
        (root / name).mkdir()
    os.chown(root / "mail", pwd.getpwnam("dovecot").pw_uid, grp.getgrnam("dovecot").gr_gid)
    (root / "users").write_text(f"{user}:{{PLAIN}}{password}\n")
    port = free_port()
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
default_internal_user = dovecot
default_login_user = dovenull
mail_uid = dovecot
mail_gid = dovecot
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""")
    popen = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)

    def listening():
        if popen.poll() is not None:
            raise RuntimeError(f"dovecot exited: {(root / 'dovecot.log').read_text(errors='replace') if (root / 'dovecot.log').exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    wait_for(listening, timeout=20, what="dovecot")
    return Dovecot(root=root, port=port, user=user, password=password, popen=popen)
