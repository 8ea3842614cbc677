"""The errors a user can meet, in one place and without torch: the controller and the Python API
name them without loading the engine.

Every message is meant for the user: it says what was wrong and what would work.
"""

from __future__ import annotations

__all__ = ["GenerationError", "GenerationInputError", "ModelFileError"]


class GenerationInputError(ValueError):
    """Something the user set cannot be generated; the message says what and how to fix it."""


class ModelFileError(ValueError):
    """A model file cannot be used; the message says why and what would work."""


class GenerationError(RuntimeError):
    """Generation could not finish; the message is meant for the user."""
