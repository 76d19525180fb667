"""The file readers the upload route uses: ingest's loaders, handed over by the composition root.

The service never imports ingest (tests/test_layout.py); what it needs from the writing side comes through
pressqa, which wires both (see also pressqa.runtime, which builds the Indexer).
"""

from ingest.loaders import BrokenFile, UnsupportedFile, load_bytes

__all__ = ["BrokenFile", "UnsupportedFile", "load_bytes"]
