"""What the commands share for talking to the user: tables, stable JSON, progress.

Everything here writes text; nothing calls AWS. Results go to stdout (a table, JSON, or a
single value a script captures); progress and notes go to stderr, so a script that reads
stdout never sees them.
"""
import contextlib
import datetime
import json
import logging
import sys

# Bump when a key is removed or changes meaning; adding a key keeps the version.
SCHEMA_VERSION = 1
NONE = "-"


def table(headers, rows):
    """Rows under headers, columns left-aligned and two spaces apart; one string per line."""
    cells = [[str(header) for header in headers]]
    cells += [[NONE if cell is None else str(cell) for cell in row] for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells]


def json_document(payload):
    """`payload` with its schema_version, as sorted, indented JSON ending in a newline."""
    return json.dumps(dict(payload, schema_version=SCHEMA_VERSION), sort_keys=True, indent=2) + "\n"


def iso_time(moment):
    """2026-11-01T10:00:00Z for an aware datetime; None stays None."""
    if moment is None:
        return None
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def progress(line):
    """One progress line on stderr, at once."""
    print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def progress_logging():
    """While inside: the hooks' INFO log lines (what they wait for and do) reach stderr as progress."""
    logger = logging.getLogger("hooks")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
