"""What the fake fediverse servers serve alike, whatever their software: NodeInfo (the
index at ``/.well-known/nodeinfo`` linking the document that names the software) and
ActivityPub answers (addressing by visibility, the activity+json content type)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeServer, json_response

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def add_nodeinfo(
    app: web.Application,
    server: FakeServer,
    software: Callable[[], tuple[str, str]],
    schema: str = "2.0",
) -> None:
    """NodeInfo ``schema`` naming ``software()`` (name, version), read when asked."""

    async def index(request: web.Request) -> web.Response:
        rel = f"http://nodeinfo.diaspora.software/ns/schema/{schema}"
        href = f"{server.base_url}/nodeinfo/{schema}"
        return json_response({"links": [{"rel": rel, "href": href}]})

    async def document(request: web.Request) -> web.Response:
        name, version = software()
        return json_response(
            {
                "version": schema,
                "software": {"name": name, "version": version},
                "protocols": ["activitypub"],
                "usage": {},
            }
        )

    app.router.add_get("/.well-known/nodeinfo", index)
    app.router.add_get(f"/nodeinfo/{schema}", document)


def addressing(actor: str, visibility: str) -> tuple[list[str], list[str]]:
    """(to, cc) of a post: public ones to everyone, unlisted ("home" on Misskey) to the
    followers with everyone in cc, the rest to the followers alone."""
    followers = f"{actor}/followers"
    if visibility == "public":
        return [PUBLIC], [followers]
    if visibility in ("unlisted", "home"):
        return [followers], [PUBLIC]
    return [followers], []


def wants_activity(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/activity+json" in accept or "application/ld+json" in accept


def activity_response(data: Any) -> web.Response:
    return web.Response(body=json.dumps(data).encode(), content_type="application/activity+json")
