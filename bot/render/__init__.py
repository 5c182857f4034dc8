"""Rendering: neutral documents (document.py), built from threads (thread_view.py), turned
into each adapter's format (plain.py, markdown.py, html.py) within its limits."""
