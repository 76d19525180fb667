"""The two ways a file can fail to load: skipped (unsupported) or failed (broken)."""


class UnsupportedFile(Exception):
    """Not a press-release format we read; the file is skipped with this reason."""


class BrokenFile(Exception):
    """A file of a supported type that cannot be read; the message says why."""


class PartialFile(BrokenFile):
    """A file that breaks part-way (a feed cut off mid-item): `releases` holds every complete one before the break.

    A BrokenFile, so a caller that only knows whole files still refuses it; the ingest pipeline keeps `releases`
    and reports the message (which names the position) as the file's error.
    """

    def __init__(self, message: str, releases: list) -> None:
        super().__init__(message)
        self.releases = releases
