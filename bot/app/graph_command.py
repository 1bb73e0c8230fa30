"""`vie-coach graph`: the dialogs drawn (flows, nodes, the ways between them, what is
unreachable or a dead end) and, with --stats, how far people went.

SVG and PNG need Graphviz's `dot`; without it the command writes Mermaid text instead,
which GitHub, GitLab and mermaid.live draw. The dialogs are drawn even when they have
errors (showing an unreachable node or a dead end is the point), as far as they could
be read.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import click
import graphviz  # type: ignore[import-untyped]

from bot.app import bootstrap
from bot.app.cli_common import config_of, fail, folder_of
from bot.app.config import Config
from bot.app.startup import Exit, explain
from bot.core.model import Dialogs
from bot.dialogs.graph import Graph, build_graph, in_order
from bot.dialogs.graph_text import summary, to_dot, to_mermaid
from bot.dialogs.load import draft_directory
from bot.errors import DialogError, Problem, VieError
from bot.store.reach import Reach, read_reach

FORMATS = ("svg", "png", "mermaid", "dot")
IMAGES = ("svg", "png")  # drawn by `dot`
SUFFIXES = {
    ".svg": "svg",
    ".png": "png",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".dot": "dot",
    ".gv": "dot",
}
INSTALL = "apt-get install graphviz"
# what Mermaid draws by default (maxEdges, maxTextSize): the page that shows a diagram
# may raise them, the diagram itself cannot
MERMAID_MAX_EDGES = 500
MERMAID_MAX_TEXT = 50_000


class GraphDrawError(VieError):
    """`dot` failed to draw the graph."""


def dot_available() -> bool:
    """Whether Graphviz's `dot` is on PATH (looked up at each call: PATH may change)."""
    return shutil.which("dot") is not None


def draft(config: Config, folder: Path) -> tuple[Dialogs, list[Problem]]:
    """The dialog folder as far as it can be read, errors and all (`vie-coach check`
    refuses a set with errors; a drawing of it is how one sees them). DialogError when
    not even the entry flow could be read."""
    bot = config.bot
    dialogs, problems = draft_directory(
        folder, bot.languages, bot.entry_flow, bootstrap.features_for(config)
    )
    if dialogs is None:
        raise DialogError(problems)
    return dialogs, problems


def draw(source: str, image: str) -> bytes:
    """DOT source drawn by `dot` as `image` (svg or png)."""
    try:
        return bytes(graphviz.Source(source).pipe(format=image))
    except graphviz.ExecutableNotFound as exc:
        raise GraphDrawError(f"Graphviz's `dot` is not installed ({INSTALL})") from exc
    except subprocess.CalledProcessError as exc:
        said = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        reason = said[-1] if said else f"exit status {exc.returncode}"
        raise GraphDrawError(f"`dot` could not draw the graph: {reason}") from exc


def _reach(path: Path | str) -> Reach:
    try:
        return asyncio.run(read_reach(path))
    except VieError as exc:
        fail(*(explain(exc) or (Exit.STORE, str(exc))))


def _format(chosen: str | None, output: str | None) -> str:
    """--format, else what --output's name says, else svg where `dot` is, else Mermaid."""
    if chosen is not None:
        return chosen
    if output not in (None, "-"):
        known = SUFFIXES.get(Path(output).suffix.lower())
        if known is not None:
            return known
    return "svg" if dot_available() else "mermaid"


def _mermaid_limits(graph: Graph, text: str, flows: list[str]) -> None:
    if len(graph.edges) <= MERMAID_MAX_EDGES and len(text) <= MERMAID_MAX_TEXT:
        return
    one = f"draw one flow at a time (--flow {' | '.join(flows)}), or " if not graph.focus else ""
    click.echo(
        f"vie-coach: note: {len(graph.edges)} arrows and {len(text):,} characters, more than "
        f"Mermaid draws by default ({MERMAID_MAX_EDGES} arrows, {MERMAID_MAX_TEXT:,} "
        f"characters): {one}install Graphviz for svg ({INSTALL})",
        err=True,
    )


@click.command(name="graph")
@click.option("--flow", help="Draw this flow only (what it leads to elsewhere as stubs).")
@click.option(
    "--format",
    "chosen",
    type=click.Choice(FORMATS),
    help="svg or png (need Graphviz's dot), mermaid or dot text. Default: from --output's "
    "name, else svg when dot is installed, else mermaid.",
)
@click.option(
    "--output",
    "-o",
    help="File to write, or - for standard output (the default for mermaid and dot; "
    "svg and png go to dialogs-graph.svg or .png here).",
)
@click.option(
    "--stats", is_flag=True, help="Show how many people reached each node and stand there now."
)
@click.option(
    "--db", "db_path", type=click.Path(path_type=Path), help="SQLite file (default: configured)."
)
@click.option("--dialogs", "dialogs_dir", type=click.Path(path_type=Path), help="Dialog folder.")
@click.option("--config", "config_path", help="Configuration file (TOML).")
def graph_command(
    flow: str | None,
    chosen: str | None,
    output: str | None,
    stats: bool,
    db_path: Path | None,
    dialogs_dir: Path | None,
    config_path: str | None,
) -> None:
    """Draw the dialogs: each flow in a box, its nodes (id, first words, ⏰ reminders),
    buttons as solid arrows, typed text dashed, goto dotted, other flows in blue;
    unreachable nodes grey, dead ends red. With --stats (from the database, read-only):
    how many people reached each node, and how many stand there now."""
    config = config_of(config_path)
    folder, how = folder_of(config, dialogs_dir)
    if dialogs_dir is None:
        click.echo(f"(dialogs: {folder}, {how})", err=True)
    try:
        dialogs, problems = draft(config, folder)
    except DialogError as exc:
        fail(Exit.DIALOGS, f"{folder}: {exc}")
    errors = sum(1 for p in problems if p.severity == "error")
    if errors:
        click.echo(
            f"vie-coach: warning: {errors} error(s) in {folder} (`vie-coach check` lists "
            "them): drawn as far as they could be read",
            err=True,
        )
    try:
        graph = build_graph(dialogs, flow)
    except VieError as exc:
        fail(Exit.CONFIG, str(exc))
    reach = _reach(db_path or config.store.target).renamed(dialogs.renamed) if stats else None
    fmt = _format(chosen, output)
    if fmt in IMAGES and not dot_available():
        output = None if output in (None, "-") else str(Path(output).with_suffix(".mmd"))
        click.echo(
            f"vie-coach: Graphviz's `dot` is not installed, so {output or 'this'} is Mermaid "
            f"text (mermaid.live draws it); for {fmt}, install Graphviz: {INSTALL}",
            err=True,
        )
        fmt = "mermaid"
    if fmt in IMAGES:
        try:
            data = draw(to_dot(graph, reach), fmt)
        except GraphDrawError as exc:
            fail(Exit.UNEXPECTED, str(exc))
        _write(data, output or f"dialogs-graph.{fmt}", graph)
        return
    text = to_mermaid(graph, reach) if fmt == "mermaid" else to_dot(graph, reach)
    if fmt == "mermaid":
        _mermaid_limits(graph, text, [f.id for f in in_order(dialogs)])
    _write(text.encode(), output or "-", graph)


def _write(data: bytes, output: str, graph: Graph) -> None:
    if output == "-":
        click.echo(data, nl=False)  # bytes go to the binary stream: a PNG stays a PNG
        return
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        fail(Exit.CONFIG, f"{output}: cannot write the graph ({exc.strerror})")
    click.echo(f"{output}: {summary(graph)}")
