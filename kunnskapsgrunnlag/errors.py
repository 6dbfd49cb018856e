"""Exceptions shared by the phases (kept import-light so the CLI starts fast)."""


class ValidationError(ValueError):
    """A dataset violates its schema; the message names dataset, file, row, column and rule."""
