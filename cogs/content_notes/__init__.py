"""Content notes for mental-health topics: detection, author warnings, moderator
warnings and per-server policies."""
