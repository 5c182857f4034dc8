"""Who this process is, for the leases several bot processes take on one database (an
author's poll, a delivery's sending): a lease names its owner, so a process recognises its
own and an expired one is taken over by another."""

from __future__ import annotations

import os
import secrets
import socket
from functools import lru_cache


@lru_cache(maxsize=1)
def process_owner() -> str:
    """This process's owner name: host, pid and a random part (a pid is reused after a
    restart; the random part tells the new process from the killed one)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
