"""One process's lease on one followed author, as the writes about the author carry it
(``SubscriptionsRepo`` checks it inside each write's transaction: the fence)."""

from __future__ import annotations

from dataclasses import dataclass

from cogs.subscriptions.clock import Clock

# A request under a lease goes out only while this share of the lease is left. The check
# and the request are not one step (a connection to open, a process stopped in between),
# and another process takes the author over the moment the lease's time has passed.
SPARE_SHARE = 0.25


class LeaseLost(Exception):
    """The lease on an author ran out or was taken over: what this process was about to
    record about the author is dropped."""


@dataclass(eq=False)
class AuthorLease:
    """This process's claim on one author. ``until`` is when it ends, as its row said when
    it was claimed or last renewed (a fenced write extends the row too, but its transaction
    may yet fail: the lease keeps the earlier time). ``lost`` is set once a fence, a
    renewal or ``check`` found the lease gone: the work on the author stops there.
    ``released`` once a poll's save gave it back (work after the poll takes the author
    again)."""

    author: int
    owner: str
    clock: Clock
    lease_s: float
    until: float
    lost: bool = False
    released: bool = False

    def window(self) -> tuple[float, float]:
        """(now, when a lease taken or renewed now ends), in the service's clock."""
        now = self.clock.now()
        return now, now + self.lease_s

    def ensure_held(self) -> None:
        """``LeaseLost`` once a fence, a renewal or a check found it gone, or a save gave
        it back."""
        if self.lost or self.released:
            raise LeaseLost(f"the lease on author {self.author} is no longer held")

    def check(self) -> None:
        """Just before a request about the author: ``LeaseLost`` unless the lease is still
        held with time to spare. A process that was stopped past its lease must not ask
        again for what the process that took the author over already asked for."""
        self.ensure_held()
        if self.clock.now() >= self.until - self.lease_s * SPARE_SHARE:
            self.lost = True
            raise LeaseLost(f"the lease on author {self.author} ran out")
