"""A real IMAP server on loopback: Debian's dovecot with a configuration of its own.

It runs in the foreground from a scratch folder (mail, state, sockets, log), serves one
user over plain IMAP on a free loopback port, and stops with the test. `.ci/run` installs
`dovecot-imapd`; without it the tests skip, except in CI, where they fail.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from embedded.stack import free_port

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "complaints", "mailbox-secret"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
"""


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    user: str
    password: str
    root: Path

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(self.user, self.password)
        return imap

    def deliver(self, raw: bytes) -> None:
        """A mail arrives in the inbox, as the mail server's delivery would put it there."""
        imap = self.client()
        try:
            status, data = imap.append("INBOX", None, None, raw)
            assert status == "OK", data
        finally:
            imap.logout()

    def flags(self) -> list[set[str]]:
        """Each mail's flags, in arrival order."""
        imap = self.client()
        try:
            imap.select("INBOX")
            status, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            assert status == "OK", data
            found = []
            for line in data:
                if isinstance(line, bytes) and b"FLAGS (" in line:
                    inside = line.split(b"FLAGS (", 1)[1].split(b")", 1)[0]
                    found.append({flag.decode() for flag in inside.split()})
            return found
        finally:
            imap.logout()

    def contents(self) -> list[bytes]:
        """Each mail as the server keeps it, in arrival order."""
        imap = self.client()
        try:
            imap.select("INBOX")
            status, data = imap.uid("FETCH", "1:*", "(BODY.PEEK[])")
            assert status == "OK", data
            return [item[1] for item in data if isinstance(item, tuple)]
        finally:
            imap.logout()


@contextmanager
def imap_server() -> Iterator[Mailbox]:
    if not shutil.which(DOVECOT):
        missing = "Debian dovecot-imapd is not installed (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    root = Path(tempfile.mkdtemp(prefix="complaints-imap-"))
    root.chmod(0o755)  # dovecot's mail processes run as the dovecot user
    for folder in ("run", "state", "mail", "home"):
        (root / folder).mkdir()
    for folder in ("mail", "home"):
        shutil.chown(root / folder, "dovecot", "dovecot")
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    port = free_port()
    (root / "dovecot.conf").write_text(CONFIG.format(root=root, port=port))
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                log = root / "dovecot.log"
                if process.poll() is not None or time.monotonic() > deadline:
                    text = log.read_text() if log.exists() else ""
                    raise RuntimeError(f"dovecot did not start: {text[-500:]}") from None
                time.sleep(0.2)
        yield Mailbox("127.0.0.1", port, USER, PASSWORD, root)
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(root, ignore_errors=True)
