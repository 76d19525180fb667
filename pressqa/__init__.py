"""pressqa: question answering over press releases, citing the exact sentence or abstaining."""
