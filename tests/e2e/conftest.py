"""The Matrix fixtures (``tests/e2e/conftest_matrix.py``) for every end-to-end module, so a
test names them as arguments without importing them."""

from tests.e2e.conftest_matrix import (
    bsky,
    matrix_app,
    matrix_bot,
    person,
    register,
    start_app,
    synapse,
)

__all__ = ["bsky", "matrix_app", "matrix_bot", "person", "register", "start_app", "synapse"]
