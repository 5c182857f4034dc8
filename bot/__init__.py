"""unrollbot: unrolls social-media threads into chat."""

__version__ = "0.1.0"
