"""One sender per delivery at a time: the planner holds the lease first; a claim takes only
a free or expired lease, with the next fence; a holder whose lease expired or was taken over
records nothing more (it is told so), and the new holder's progress is what stays."""

from __future__ import annotations

import asyncio

import pytest

from storage.db import Database
from storage.deliveries_repo import DeliveryRepo, Lease, LeaseLost
from tests.conftest import Engine

T0 = 1_000_000.0
LEASE_S = 10.0


async def _plan(repo: DeliveryRepo, owner: str = "proc-a") -> Lease:
    return await repo.plan(
        adapter="memory",
        scope="scope-1",
        channel="channel-1",
        thread_root="p1",
        thread_url="https://x.test/p1",
        messages=[("header", ()), ("post", ("p1",)), ("post", ("p2",)), ("post", ("p3",))],
        now=T0,
        owner=owner,
        lease_s=LEASE_S,
        layout="per-post",
    )


async def _two(engine: Engine) -> tuple[Database, Database]:
    return await engine.open(), await engine.open()


async def test_the_planner_holds_the_lease_and_a_live_lease_is_never_taken(
    engine: Engine,
) -> None:
    a, b = await _two(engine)
    try:
        lease = await _plan(DeliveryRepo(a))
        other = DeliveryRepo(b)
        record = await other.get(lease.delivery_id)
        assert record is not None
        assert (record.lease_owner, record.fence, record.lease_until) == ("proc-a", 1, T0 + 10)
        assert await other.claim(lease.delivery_id, "proc-b", T0 + 9, LEASE_S) is None
        assert await other.claimable("memory", T0 + 9) == []
        # Recording progress renews it: still not claimable where it would have expired.
        await DeliveryRepo(a).mark_sent(lease, 0, ["m1"], now=T0 + 8)
        assert await other.claim(lease.delivery_id, "proc-b", T0 + 15, LEASE_S) is None
        assert [r.id for r in await other.claimable("memory", T0 + 18)] == [lease.delivery_id]
    finally:
        await a.close()
        await b.close()


async def test_an_expired_lease_is_taken_over_and_its_holder_records_nothing_more(
    engine: Engine,
) -> None:
    a, b = await _two(engine)
    try:
        first_repo, second_repo = DeliveryRepo(a), DeliveryRepo(b)
        first = await _plan(first_repo)
        await first_repo.mark_sent(first, 0, ["m1"], now=T0 + 1)
        second = await second_repo.claim(first.delivery_id, "proc-b", T0 + 12, LEASE_S)
        assert second is not None and second.fence == 2
        before = await second_repo.get(first.delivery_id)

        stale_writes = [
            first_repo.mark_sent(first, 1, ["m2"], now=T0 + 12),
            first_repo.set_chat_thread(first, "t-stale", now=T0 + 12),
            first_repo.append(first, [("post", ("p4",))], now=T0 + 12),
            first_repo.regroup(first, {1: ["p1", "p2"]}, [], now=T0 + 12),
            first_repo.finish(first, now=T0 + 12),
            first_repo.renew(first, now=T0 + 12),
        ]
        for write in stale_writes:
            with pytest.raises(LeaseLost):
                await write
        assert await second_repo.get(first.delivery_id) == before  # nothing changed

        # The new holder's progress is recorded, under its fence.
        await second_repo.mark_sent(second, 1, ["m2"], now=T0 + 13)
        await second_repo.finish(second, now=T0 + 14)
        done = await first_repo.get(first.delivery_id)
        assert done is not None
        assert done.state == "sent" and done.lease_owner is None and done.fence == 2
        assert [m.sent for m in done.messages] == [True, True, False, False]
    finally:
        await a.close()
        await b.close()


async def test_an_expired_lease_records_nothing_even_when_nobody_took_it(engine: Engine) -> None:
    db = await engine.open()
    try:
        repo = DeliveryRepo(db)
        lease = await _plan(repo)
        with pytest.raises(LeaseLost):
            await repo.mark_sent(lease, 0, ["m1"], now=T0 + LEASE_S + 1)
        record = await repo.get(lease.delivery_id)
        assert record is not None and not record.messages[0].sent
    finally:
        await db.close()


async def test_renewing_keeps_a_slow_sender_its_delivery(engine: Engine) -> None:
    db = await engine.open()
    try:
        repo = DeliveryRepo(db)
        lease = await _plan(repo)
        for step in range(1, 6):  # five renewals, each before the lease ran out
            await repo.renew(lease, now=T0 + 8 * step)
            assert lease.until == T0 + 8 * step + LEASE_S
            assert await repo.claim(lease.delivery_id, "proc-b", T0 + 8 * step + 9, 1) is None
        await repo.mark_sent(lease, 0, ["m1"], now=T0 + 45)
    finally:
        await db.close()


async def test_of_two_processes_claiming_at_once_one_gets_the_delivery(engine: Engine) -> None:
    a, b = await _two(engine)
    try:
        lease = await _plan(DeliveryRepo(a))
        await DeliveryRepo(a).release(lease)  # the planner stopped at an error
        got = await asyncio.gather(
            DeliveryRepo(a).claim(lease.delivery_id, "proc-a", T0 + 1, LEASE_S),
            DeliveryRepo(b).claim(lease.delivery_id, "proc-b", T0 + 1, LEASE_S),
        )
        winners = [g for g in got if g is not None]
        assert len(winners) == 1 and winners[0].fence == 2
        record = await DeliveryRepo(b).get(lease.delivery_id)
        assert record is not None and record.lease_owner == winners[0].owner
    finally:
        await a.close()
        await b.close()


async def test_a_finished_delivery_is_claimed_at_once_for_an_edit(engine: Engine) -> None:
    db = await engine.open()
    try:
        repo = DeliveryRepo(db)
        lease = await _plan(repo)
        await repo.finish(lease, now=T0 + 1)
        assert await repo.claimable("memory", T0 + 1) == []  # nothing left to send
        edit = await repo.claim(lease.delivery_id, "proc-b", T0 + 2, LEASE_S)
        assert edit is not None and edit.fence == 2
    finally:
        await db.close()
