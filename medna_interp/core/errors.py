"""The one exception type that means "the user can fix this"."""


class MednaError(ValueError):
    """A problem with the user's input, files or environment.

    The CLI prints ``str(error)`` on one line and exits with status 2; library callers
    can catch it (or ``ValueError``) to tell user mistakes from bugs.

    Parameters
    ----------
    message : what is wrong, naming the file and line where there is one
    hint : how to fix it from the command line (the CLI appends it; library messages
        stay free of command-line flags)
    """

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


def check_options(what: str, checks: list[tuple[bool, str]]) -> None:
    """Raise on the first ``(ok, message)`` that is not ok, as ``"<what> option: <message>"``."""
    for ok, message in checks:
        if not ok:
            raise MednaError(f"{what} option: {message}")
