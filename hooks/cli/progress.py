"""The fleet's live progress display on stderr (hooks/run/fleet.py calls it from several threads).

- LineProgress (not a terminal: CI logs, files): one line per change of state, each with
  the elapsed time, and a line naming the running tenants at least once a minute.
- TtyProgress (a terminal): the same lines scroll above a compact status block that is
  redrawn every second: counts, then one line per running tenant with its elapsed time
  and the last line of its log.

Both take `started(item, log_path)`, `finished(item, result)`, `skipped(item)`,
`note(text)`, `tick()` and `close(summary)`.
"""
import os
import re
import threading
import time

from hooks.run import fleet

HEARTBEAT_SECONDS = 60
TAIL_BYTES = 4096
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MESSAGE_WIDTH = 200
MIN_COLUMNS, DEFAULT_COLUMNS = 40, 100  # a pseudo-terminal may report 0 columns


def shorten(text, width):
    return text if len(text) <= width else text[: max(0, width - 3)] + "..."


def last_line(path):
    """The last non-empty line of a log file ('' when there is none yet)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - TAIL_BYTES))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if line.strip():
            return ANSI.sub("", line).strip()
    return ""


def seconds(value):
    return "%.1f s" % value


class LineProgress:
    def __init__(self, stream, total, clock=time.monotonic):
        self.stream, self.total, self.clock = stream, total, clock
        self.begun = clock()
        self.running = {}  # namespace -> (start time, log path)
        self.finished_count = 0
        self.last_heartbeat = self.begun
        self.guard = threading.Lock()

    def _line(self, text):
        self.stream.write("[%7s] %s\n" % (seconds(self.clock() - self.begun), text))
        self.stream.flush()

    def _queued(self):
        return self.total - self.finished_count - len(self.running)

    def started(self, item, log_path):
        with self.guard:
            self.running[item.namespace] = (self.clock(), log_path)
            self._started(item, log_path)

    def _started(self, item, log_path):
        self._line("start    %s (log %s)" % (item.namespace, log_path))

    def finished(self, item, result):
        with self.guard:
            self.running.pop(item.namespace, None)
            self.finished_count += 1
            self._finished(item, result)

    def _finished(self, item, result):
        status = fleet.RESULT_OF[result.exit_code]
        detail = "" if result.ok else " (exit %d): %s" % (result.exit_code, shorten(result.message, MESSAGE_WIDTH))
        self._line("%-8s %s in %s%s" % (status, item.namespace, seconds(result.seconds), detail))

    def skipped(self, item):
        with self.guard:
            self.finished_count += 1
            self._line("%-8s %s (the fleet was interrupted before it started)" % (fleet.SKIPPED, item.namespace))

    def note(self, text):
        with self.guard:
            self._line(text)

    def tick(self):
        with self.guard:
            now = self.clock()
            if self.running and now - self.last_heartbeat >= HEARTBEAT_SECONDS:
                self.last_heartbeat = now
                self._line("running  %s; %d done, %d queued" % (self._running_list(now), self.finished_count,
                                                              self._queued()))

    def _running_list(self, now):
        return ", ".join("%s (%s)" % (namespace, seconds(now - since))
                         for namespace, (since, _) in sorted(self.running.items()))

    def close(self, summary):
        with self.guard:
            counts = ", ".join("%d %s" % (n, result) for result, n in summary.counts().items() if n)
            self._line("done     %s (exit %d)" % (counts, summary.exit_code))


class TtyProgress(LineProgress):
    """LineProgress's lines scroll; a status block below them is redrawn in place."""

    def __init__(self, stream, total, clock=time.monotonic, columns=None):
        super().__init__(stream, total, clock)
        self.columns = columns
        self.drawn = 0  # lines of the block on screen now
        self.counts = {}

    def _width(self):
        """The terminal's width (the stream's own: stdout may be a pipe), less one column."""
        columns = self.columns
        if columns is None:
            try:
                columns = os.get_terminal_size(self.stream.fileno()).columns
            except (AttributeError, OSError, ValueError):
                columns = 0
        return (columns if columns >= MIN_COLUMNS else DEFAULT_COLUMNS) - 1

    def _line(self, text):
        self._erase()
        self.stream.write("[%7s] %s\n" % (seconds(self.clock() - self.begun), shorten(text, self._width() - 10)))
        self._draw()

    def _finished(self, item, result):
        status = fleet.RESULT_OF[result.exit_code]
        self.counts[status] = self.counts.get(status, 0) + 1
        super()._finished(item, result)

    def _erase(self):
        if self.drawn:
            self.stream.write("\x1b[%dF\x1b[J" % self.drawn)  # to the block's first line, clear below
            self.drawn = 0

    def _draw(self):
        now, width = self.clock(), self._width()
        counts = "  ".join("%s %d" % (status, n) for status, n in sorted(self.counts.items()))
        lines = ["fleet  %d/%d done  %s  running %d  queued %d  %s" % (
            self.finished_count, self.total, counts or "-", len(self.running), self._queued(),
            seconds(now - self.begun))]
        for namespace, (since, log_path) in sorted(self.running.items()):
            lines.append("  %-16s %7s  %s" % (namespace, seconds(now - since), last_line(log_path)))
        self.stream.write("".join(shorten(line, width) + "\n" for line in lines))
        self.stream.flush()
        self.drawn = len(lines)

    def tick(self):
        with self.guard:
            self._erase()
            self._draw()

    def close(self, summary):
        with self.guard:
            self._erase()
            self.running.clear()
            counts = ", ".join("%d %s" % (n, result) for result, n in summary.counts().items() if n)
            self.stream.write("[%7s] done     %s (exit %d)\n" % (seconds(self.clock() - self.begun), counts,
                                                                 summary.exit_code))
            self.stream.flush()


def for_stream(stream, total):
    """TtyProgress on a terminal, else LineProgress."""
    isatty = getattr(stream, "isatty", lambda: False)
    return TtyProgress(stream, total) if isatty() else LineProgress(stream, total)
