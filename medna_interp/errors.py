"""The one exception type that means "the user can fix this"."""


class MednaError(Exception):
    """A problem with the user's input, files or environment.

    The CLI prints ``str(error)`` on one line and exits with status 2; library callers
    can catch it to tell user mistakes from bugs.
    """
