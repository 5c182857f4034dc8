"""Persistence: one database (SQLite or PostgreSQL) behind a small interface, numbered
migrations for both engines, a repository per table group."""
