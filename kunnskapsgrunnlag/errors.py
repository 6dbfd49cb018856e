"""Exceptions shared by the phases (kept import-light so the CLI starts fast)."""


class ValidationError(ValueError):
    """A dataset violates its schema; the message names dataset, file, row, column and rule."""


class DataFileError(ValidationError):
    """A data file cannot be read as a table (not UTF-8, empty, missing columns); names file and dataset."""


class FetchRefused(ValidationError):
    """One or more datasets were refused (schema or plausibility) or could not be restored.

    `results` holds every dataset's result (the refused ones have status "refused"/"bad"), so the
    caller can still show what was fetched; the previous vintage of a refused dataset stays current.
    """

    def __init__(self, results, online: bool = False):
        self.results = results
        self.online = online
        bad = [r for r in results if r.status in {"refused", "bad"}]
        names = ", ".join(r.dataset for r in bad)
        super().__init__(
            "\n".join(r.detail for r in bad) + f"\n{len(bad)} dataset(s) not updated ({names}); "
            'see docs/troubleshooting.md, section "Data".'
        )


class ResponseShapeError(ValueError):
    """An API answered with a body of an unexpected shape (names dataset and URL)."""
