"""The numbered migration scripts of a store, read from the installed package (so that
they ship in the wheel): `NNNN_name.sql`, in order."""

from __future__ import annotations

from importlib import resources


def numbered_scripts(package: str) -> list[tuple[int, str]]:
    """(version, SQL) pairs from `package`'s NNNN_name.sql files, in version order."""
    found = []
    for entry in resources.files(package).iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)
