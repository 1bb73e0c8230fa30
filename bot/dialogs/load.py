"""Load a dialog folder: parse, validate, build, check, and assemble the DialogSet."""

from __future__ import annotations

import gc
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bot.core.dialogset import DialogSet
from bot.core.feature import Feature
from bot.core.render import Renderer
from bot.dialogs.checks import run_checks
from bot.dialogs.parse import Parsed, build, parse_directory
from bot.dialogs.validate import validate_files
from bot.dialogs.values import plain
from bot.errors import DialogError, Problem


def dialog_version(parsed: Parsed) -> str:
    digest = hashlib.blake2b(digest_size=4)
    for source in parsed.files:
        digest.update(json.dumps(plain(source.doc), sort_keys=True).encode())
    return digest.hexdigest()


def check_directory(
    directory: str | os.PathLike[str],
    languages: Sequence[str],
    entry_flow: str,
    features: Sequence[Feature] = (),
) -> tuple[DialogSet | None, list[Problem]]:
    """Load and check a dialog folder for these features (their messages, variables…):
    the set (None if it has errors) and all problems."""
    with _no_gc_pauses():
        return _check(Path(directory), languages, entry_flow, features)


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Loading builds many long-lived objects and no cycles worth collecting; with the
    collector on, its full passes make loading grow faster than the number of nodes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def draft_directory(
    directory: str | os.PathLike[str],
    languages: Sequence[str],
    entry_flow: str,
    features: Sequence[Feature] = (),
) -> tuple[DialogSet | None, list[Problem]]:
    """The set as far as it could be read, errors and all (None only when the entry flow
    is unreadable), and all problems: for tools that show a set with errors (the graph)."""
    with _no_gc_pauses():
        return _check(Path(directory), languages, entry_flow, features, keep_errors=True)


def _check(
    directory: Path,
    languages: Sequence[str],
    entry_flow: str,
    features: Sequence[Feature],
    keep_errors: bool = False,
) -> tuple[DialogSet | None, list[Problem]]:
    parsed = parse_directory(directory)
    validate_files(parsed, languages)
    built = build(parsed, languages)
    renderer = Renderer()
    version = dialog_version(parsed)
    dialogs = run_checks(built, parsed, languages, entry_flow, renderer, version, features)
    problems = sorted(parsed.problems, key=lambda p: (p.file, p.line, p.message))
    if not keep_errors and any(p.severity == "error" for p in problems):
        return None, problems
    return dialogs, problems


def load_dialogs(
    directory: str | os.PathLike[str],
    languages: Sequence[str],
    entry_flow: str,
    features: Sequence[Feature] = (),
) -> DialogSet:
    """Load a dialog folder or raise DialogError listing every problem."""
    dialogs, problems = check_directory(directory, languages, entry_flow, features)
    if dialogs is None:
        raise DialogError(problems)
    return dialogs
