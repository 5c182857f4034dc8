"""The one form every source gives ``created_at`` in: ISO 8601, UTC, milliseconds and a Z,
so that times from different sites sort as strings."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_ms(when: datetime) -> str:
    """``when`` as e.g. ``2025-03-01T12:00:00.250Z`` (naive times are taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def iso_ms_from_epoch(seconds: float) -> str:
    return iso_ms(datetime.fromtimestamp(seconds, UTC))
