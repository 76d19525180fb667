"""The two ways a file can fail to load: skipped (unsupported) or failed (broken)."""


class UnsupportedFile(Exception):
    """Not a press-release format we read; the file is skipped with this reason."""


class BrokenFile(Exception):
    """A file of a supported type that cannot be read; the message says why."""
