"""What several bot processes on one database share about subscriptions, on both engines:
claims on due authors (each taken by one process, an expired one taken over, a stale
claimant's writes refused) and each host's request budget (one bucket for all, a 429
closes the host for all). Each "process" has its own database handle."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from cogs.subscriptions.author_lease import SPARE_SHARE, AuthorLease, LeaseLost
from cogs.subscriptions.clock import ManualClock
from cogs.subscriptions.leases import AuthorLeases
from cogs.subscriptions.model import Filters
from cogs.subscriptions.ratelimit import DatabaseBudgets, HostLimiter
from cogs.subscriptions.repo import ObservedThread, SubscriptionsRepo
from storage.db import Database
from tests.conftest import Engine

NOW = 1_780_000_000.0
LEASE_S = 30.0


@pytest.fixture
async def handles(engine: Engine) -> AsyncIterator[list[Database]]:
    dbs = [await engine.open() for _ in range(3)]
    yield dbs
    for db in dbs:
        await db.close()


async def follow(repo: SubscriptionsRepo, n: int, interval_s: float = 60) -> list[int]:
    ids = []
    for i in range(n):
        a = await repo.ensure_author(
            source="bluesky",
            author_id=f"did:plc:{i}",
            handle=f"a{i}.example.com",
            name=f"A {i}",
            url=f"https://bsky.app/profile/a{i}.example.com",
            host="bsky.app",
            interval_s=interval_s,
            now=NOW,
        )
        await repo.add_subscription(
            author=a.id,
            adapter="memory",
            scope="s",
            channel="c",
            filters=Filters(),
            backfill=0,
            created_by="u",
            now=NOW,
        )
        ids.append(a.id)
    return ids


# ---- claims -------------------------------------------------------------------------------


async def test_each_due_author_is_claimed_by_one_process(handles: list[Database]) -> None:
    repos = [SubscriptionsRepo(db) for db in handles]
    ids = await follow(repos[0], 40)
    # Three processes claim at the same moment, a few authors at a time.
    claims = await asyncio.gather(
        *(r.claim_due(f"p{i}", NOW, LEASE_S, 7) for i, r in enumerate(repos)),
        *(r.claim_due(f"p{i}", NOW, LEASE_S, 7) for i, r in enumerate(repos)),
    )
    taken = [a.id for batch in claims for a in batch]
    assert len(taken) == len(set(taken)), "an author was claimed twice"
    assert set(taken) <= set(ids)
    # A claimed author's next poll moved on by its interval: nobody finds it due now.
    assert all(a.next_poll_at == NOW + 60 for batch in claims for a in batch)
    left = await repos[0].claim_due("p0", NOW, LEASE_S, 100)
    assert sorted(taken + [a.id for a in left]) == sorted(ids)
    assert await repos[1].claim_due("p1", NOW + LEASE_S + 1, LEASE_S, 100) == []


async def test_an_expired_claim_is_taken_over_when_due_again(handles: list[Database]) -> None:
    a, b = SubscriptionsRepo(handles[0]), SubscriptionsRepo(handles[1])
    [author] = await follow(a, 1, interval_s=20)
    assert [x.id for x in await a.claim_due("pa", NOW, LEASE_S, 10)] == [author]
    # Due again after its interval, but the claim still holds.
    assert await b.claim_due("pb", NOW + 25, LEASE_S, 10) == []
    assert not await b.claim_author(author, "pb", NOW + 25, LEASE_S)
    # The claim ran out: another process takes it.
    assert [x.id for x in await b.claim_due("pb", NOW + LEASE_S + 1, LEASE_S, 10)] == [author]
    assert await b.lease_of(author) == ("pb", NOW + 2 * LEASE_S + 1)


async def test_a_stale_claimant_writes_nothing(handles: list[Database]) -> None:
    a, b = SubscriptionsRepo(handles[0]), SubscriptionsRepo(handles[1])
    [author] = await follow(a, 1)
    clock = ManualClock(NOW)
    [claimed] = await a.claim_due("pa", NOW, LEASE_S, 10)
    stale = AuthorLease(author, "pa", clock, LEASE_S, NOW + LEASE_S)
    thread = ObservedThread("r1", "https://bsky.app/x", "2026-01-01T00:00:00Z", NOW, ("r1",))
    # While the lease holds, writes go through and extend it.
    clock._now = NOW + 20
    assert await a.record(author, [thread], clock.now(), fence=stale) == ["r1"]
    assert (await a.lease_of(author))[1] == NOW + 20 + LEASE_S
    # Past it, nothing is written, whether or not someone took the author over.
    clock._now = NOW + 20 + LEASE_S + 1
    late = ObservedThread("r2", "https://bsky.app/y", "2026-01-01T00:00:00Z", NOW, ("r2",))
    with pytest.raises(LeaseLost):
        await a.record(author, [late], clock.now(), fence=stale)
    assert stale.lost
    assert await b.claim_author(author, "pb", clock.now(), LEASE_S)
    polled = replace(claimed, last_poll_at=clock.now())
    with pytest.raises(LeaseLost):
        await a.save_poll_state(
            polled, fence=AuthorLease(author, "pa", clock, LEASE_S, NOW + LEASE_S)
        )
    assert set(await b.threads(author)) == {"r1"}
    after = await b.author(author)
    assert after is not None and after.last_poll_at is None


async def test_a_lease_ends_where_its_row_does_with_time_to_spare_for_requests(
    handles: list[Database],
) -> None:
    repo = SubscriptionsRepo(handles[0])
    [author] = await follow(repo, 1)
    clock = ManualClock(NOW)
    leases = AuthorLeases(repo, clock, LEASE_S, "pa")
    [(_, lease)] = await leases.claim_due(10)
    assert lease.until == (await repo.lease_of(author))[1] == NOW + LEASE_S
    # A renewal moves the end on, as far as the row's.
    clock._now = NOW + LEASE_S / 2
    lease.check()
    assert await repo.renew(lease)
    assert lease.until == (await repo.lease_of(author))[1] == NOW + LEASE_S * 1.5
    # A request no longer goes out under it a little before its end.
    clock._now = lease.until - LEASE_S * SPARE_SHARE
    with pytest.raises(LeaseLost):
        lease.check()
    assert lease.lost


async def test_a_process_does_not_work_on_an_author_twice(handles: list[Database]) -> None:
    repo = SubscriptionsRepo(handles[0])
    [author] = await follow(repo, 1)
    clock = ManualClock(NOW)
    leases = AuthorLeases(repo, clock, LEASE_S, "pa")
    other = AuthorLeases(SubscriptionsRepo(handles[1]), clock, LEASE_S, "pb")
    async with leases.hold(author) as held:
        assert held is not None
        async with leases.hold(author) as again, other.hold(author) as theirs:
            assert again is None and theirs is None
    # Released at the end of the block: free for anyone at once.
    assert await repo.lease_of(author) == (None, None)
    async with other.hold(author) as theirs:
        assert theirs is not None


# ---- host budgets -------------------------------------------------------------------------


async def test_processes_draw_from_one_budget_per_host(handles: list[Database]) -> None:
    clock, own_clock = ManualClock(0), ManualClock(0)
    limiters = [HostLimiter(clock, store=DatabaseBudgets(db)) for db in handles]
    alone = HostLimiter(own_clock)
    granted = together = 0
    for second in range(0, 600, 5):
        clock._now = own_clock._now = float(second)
        while await alone.reserve("mastodon.example") == 0:
            granted += 1
        # The three processes ask in turn (a different one first each time) until none
        # may send.
        k = second // 5 % len(limiters)
        while True:
            waits = [await lim.reserve("mastodon.example") for lim in limiters[k:] + limiters[:k]]
            together += waits.count(0.0)
            if all(w > 0 for w in waits):
                break
    # Three processes together send what one process alone may send.
    assert abs(together - granted) <= 3
    assert all(lim.stats()["mastodon.example"]["used"] > 0 for lim in limiters)


async def test_a_429_seen_by_one_process_pauses_all(handles: list[Database]) -> None:
    clock = ManualClock(0)
    one, two = (HostLimiter(clock, store=DatabaseBudgets(db)) for db in handles[:2])
    clock._now = 300.0  # a full bucket
    assert await two.reserve("masto.example", priority=True) == 0
    until = await one.close("masto.example", 120)
    assert until == 420.0
    assert await two.reserve("masto.example", priority=True) == pytest.approx(120)
    clock._now = 421.0
    assert await two.reserve("masto.example", priority=True) == 0


async def test_deferred_requests_of_all_processes_get_successive_slots(
    handles: list[Database],
) -> None:
    clock = ManualClock(0)
    one, two = (HostLimiter(clock, store=DatabaseBudgets(db)) for db in handles[:2])
    slots = [await lim.slot("masto.example") for lim in (one, two, one, two)]
    assert slots == sorted(slots) and len(set(slots)) == 4
    # A process started later joins the same queue and the same (nearly empty) bucket.
    late = HostLimiter(clock, store=DatabaseBudgets(handles[2]))
    assert await late.slot("masto.example") > slots[-1]
