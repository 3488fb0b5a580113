"""What a measurement hands to the report: rows of the summary table, detail tables, notes."""
from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class Row:
    """One line of the summary table."""

    key: str  # stable id, e.g. "overhead.ratio" (the smoke test looks rows up by it)
    measurement: str
    result: str
    details: str = ""
    ok: Optional[bool] = None  # None: no target; True/False: the target was met/missed


@dataclass(frozen=True)
class Table:
    """A detail table (e.g. API calls per operation)."""

    title: str
    header: tuple
    rows: tuple


@dataclass
class Section:
    """The outcome of one measurement."""

    name: str  # the --only name: overhead, api_calls, rendering, fleet, memory
    title: str
    rows: list = field(default_factory=list)
    tables: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # exactly what was compared, and how

    @property
    def failed_rows(self):
        return [row for row in self.rows if row.ok is False]
