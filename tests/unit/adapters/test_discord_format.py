"""Discord message bodies: limits, nonces and the REST base the config may name."""

from __future__ import annotations

from bot.adapters.discord.format import MAX_CONTENT, api_base, nonce_for, render
from bot.render.document import Block, Inline, Message, para


def test_api_base_accepts_a_host_or_a_full_api_path() -> None:
    assert api_base("http://127.0.0.1:8080") == "http://127.0.0.1:8080/api/v10"
    assert api_base("https://proxy.example/api/v10/") == "https://proxy.example/api/v10"


def test_nonces_fit_discords_25_characters_and_differ_per_chunk() -> None:
    short = nonce_for("unrollbot-1-2", 0)
    assert short == "unrollbot-1-2:0"
    long_a = nonce_for("unrollbot-123456789-12345", 0)
    long_b = nonce_for("unrollbot-123456789-12345", 1)
    assert len(long_a) == 25 and long_a != long_b
    assert nonce_for("unrollbot-123456789-12345", 0) == long_a  # stable across restarts


def test_every_chunk_fits_and_spoilers_never_span_messages() -> None:
    text = " ".join(f"w{i}" for i in range(2500))
    message = Message(
        (para(text),),
        spoiler="Content warning: violence",
        preface=(Block("note", (Inline("Content warning: violence"),)),),
    )
    parts = render(message)
    assert len(parts) >= 4
    for part in parts:
        assert len(part) <= MAX_CONTENT
        body = "\n".join(x for x in part.split("\n") if not x.startswith("-# "))
        assert not body or (body.startswith("||") and body.endswith("||"))
    assert "Content warning: violence" in parts[0].split("||")[0]


def test_an_empty_message_still_has_a_body() -> None:
    assert render(Message(())) == ["\u200b"]
