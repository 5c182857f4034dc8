"""One process's lease on one followed author, as the writes about the author carry it
(``SubscriptionsRepo`` checks it inside each write's transaction: the fence)."""

from __future__ import annotations

from dataclasses import dataclass

from cogs.subscriptions.clock import Clock


class LeaseLost(Exception):
    """The lease on an author ran out or was taken over: what this process was about to
    record about the author is dropped."""


@dataclass(eq=False)
class AuthorLease:
    """This process's claim on one author. ``lost`` is set once a fence or a renewal
    found the lease gone: the work on the author stops there."""

    author: int
    owner: str
    clock: Clock
    lease_s: float
    lost: bool = False

    def window(self) -> tuple[float, float]:
        """(now, when a lease taken or renewed now ends), in the service's clock."""
        now = self.clock.now()
        return now, now + self.lease_s
