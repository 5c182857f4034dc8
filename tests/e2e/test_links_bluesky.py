"""The seed's structure ported to Bluesky, keeping its words (its links now name the
author's earlier Bluesky threads, by handle as people paste them): the same context link
and moved post, matched by the posts' stable at:// ids through the real Bluesky source."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bot.app import App
from bot.config import BlueskyConfig, XConfig
from tests.e2e.test_links_fixtures import config, rendered
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import SynthLink, ThreadBuilder
from tests.fixtures import seed_thread as seed

TWITTER = "https://twitter.com/crys_tom/status/"


async def test_the_seed_on_bluesky(tmp_path: Path) -> None:
    async with FakeBluesky() as fake:
        earlier = ThreadBuilder(start=datetime(2020, 12, 13, 21, 0, tzinfo=UTC))
        earlier.author("crys", handle="crys.example.com")
        context = earlier.chain("crys", 2, text="An earlier thread")
        target = earlier.chain("crys", 3, text="Preparing for therapy")
        fake.add_thread(earlier.build())
        context_url, target_url = fake.url(context[0]), fake.url(target[1])

        # Builders number their keys alike: the seed's posts get keys of their own.
        b = ThreadBuilder(start=datetime(2020, 12, 14, 1, 41, tzinfo=UTC))
        b.author("crys", handle="crys.example.com")
        keys: list[str] = []
        for post in seed.POSTS:
            text, links = post["text"], []
            for link in post["links"]:
                if link.startswith(TWITTER):
                    new = context_url if link.endswith("1338232404897656834") else target_url
                    text = text.replace(link, new)
                    link = new
                links.append(SynthLink(link, link))
            parent = keys[-1] if keys else None
            keys.append(
                b.post("crys", text, parent=parent, links=tuple(links), key=f"seed{len(keys)}")
            )
        fake.add_thread(b.build())

        cfg = config(tmp_path / "bsky.sqlite3", "http://127.0.0.1:9")
        cfg = replace(
            cfg,
            sources=replace(
                cfg.sources,
                bluesky=BlueskyConfig(enabled=True, appview_url=fake.base_url),
                x=XConfig(enabled=False),
            ),
        )
        app = await App.create(cfg, extensions=["cogs.links"])
        try:
            thread = await app.unroller.unroll(fake.url(keys[10]))
            moved_in = await app.unroller.unroll(fake.url(target[0]))
        finally:
            await app.close()

    assert len(thread.posts) == 13
    text = rendered(thread)
    assert f"Context: {context_url}" in text
    moved_id = fake.uri(keys[8])
    assert dict(thread.marks)[moved_id] == f"belongs to {target_url}; left here by the author"
    assert [(lk.kind, lk.post) for lk in thread.links] == [
        ("context", fake.uri(keys[0])),
        ("belongs_to", moved_id),
    ]
    assert [(p.id, p.status) for p in moved_in.posts] == [
        (fake.uri(target[0]), "ok"),
        (fake.uri(target[1]), "ok"),
        (moved_id, "moved_in"),
        (fake.uri(target[2]), "ok"),
    ]
