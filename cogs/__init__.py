"""Features: one module or package each, platform-free, with declared commands."""
