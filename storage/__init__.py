"""Persistence: one aiosqlite database, numbered migrations, a repository per table group."""
