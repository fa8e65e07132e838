"""The one exception type the CLI turns into a clean one-line error and a non-zero exit."""


class SmartgridError(Exception):
    """A problem the user can fix (bad option, missing Java, locked metastore...).

    The CLI prints ``error: <message>`` and exits with ``exit_code``; no stack trace.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
