"""The one error type that reaches people.

Library code raises `SeqartError` with a single line naming the file or
setting and what is wrong; the CLI prints it and exits with status 2.
"""


class SeqartError(Exception):
    """Bad input from a person: a file, a setting or a port. Message is one line."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def bad_file(path, problem: str) -> SeqartError:
    return SeqartError(f"{path}: {problem}")
