"""Where every process of the server logs: stderr (stdout belongs to the stdio transport)."""

from __future__ import annotations

import logging
import sys


def log_to_stderr(verbose: bool) -> None:
    """The logging of every process of the server (``serve --workers`` starts fresh ones): stderr, warnings
    and up unless ``--verbose``. Set before the MCP SDK would install its own (INFO, rich-formatted: a
    line per request, at a cost per call)."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)
