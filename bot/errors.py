"""The one error root of VIE Coach and its few subclasses.

Every message names the offending thing (a file and line, a config key and value, a
database path), so that the person reading it knows what to fix without a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class VieError(Exception):
    """Root of every error VIE Coach raises on purpose."""


class ConfigError(VieError):
    """A configuration value is missing or wrong; the message quotes key and value."""


class StoreError(VieError):
    """The database cannot be opened or used; the message names the file."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One authoring problem found in the dialog files."""

    file: str
    line: int
    node: str | None
    message: str
    severity: str = "error"  # "error" stops the bot; "warning" is only reported

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        node = f" node '{self.node}':" if self.node else ""
        tag = "" if self.severity == "error" else f" [{self.severity}]"
        return f"{where}:{node}{tag} {self.message}"


class DialogError(VieError):
    """The dialog set has errors; `problems` lists all of them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        head = f"{len(errors)} error(s) in the dialogs"
        super().__init__(head + ":\n" + "\n".join(str(p) for p in errors))


class StoreLocked(StoreError):
    """Another process serves this database; the message names it and its process id."""


class PortBusy(VieError):
    """A local port the bot must listen on (webhook, /healthz) cannot be had."""
