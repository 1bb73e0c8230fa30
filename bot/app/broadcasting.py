"""/broadcast in the running bot: the check of an operator's text, what the operators'
lookup may read (`Desk`), the effects the runtime carries out, and the broadcaster
started and stopped with the application.

A text is checked as the checker checks a dialog text, with the checker's own parts: a
Jinja2 template for the project's sandboxed renderer that reads only `user.first_name`
(and `user.lang`) — a broadcast goes to everyone, wherever they stand, so not `vars` or
`progress` — whose work and length are bounded within Telegram's 4,096 characters (French
with the no-break spaces the renderer adds), that renders, and whose result Telegram
accepts as HTML (`check_html`, the emulator's model of Telegram's parser). French
typography the renderer cannot mend comes back as warnings, like the checker's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.nodes import Template

from bot.app.config import Config
from bot.core import typography
from bot.core.dialogset import DialogSet
from bot.core.render import TELEGRAM_TEXT_LIMIT, Renderer, RenderError, visible_length
from bot.core.telegram_html import check_html
from bot.dialogs import templates
from bot.dialogs.bounds import USER_FIELDS
from bot.dialogs.typography_checks import TypographyChecks, findings, suspect, visible
from bot.features.operators.records import Checked
from bot.runtime.broadcaster import RENDER_FAILURES, Broadcaster, effect_handlers
from bot.runtime.conversation import Conversations
from bot.runtime.sender import Sender
from bot.store.broadcasts import BroadcastQueries
from bot.store.opening import SqlStore

SAMPLE_NAME = "Zoé"  # the first name a text is tried with
_WHERE = "broadcast"
_TABLE = templates.Table({("user", k): v for k, v in USER_FIELDS.items()})
_NAMES = frozenset({"user", *templates.FUNCTIONS})


class _TextChecks(TypographyChecks):
    """The checker's template and typography checks, for one text outside any dialog."""

    def __init__(self, renderer: Renderer, lang: str) -> None:
        self.renderer, self.languages = renderer, (lang,)
        self.problems, self.required, self.extra_lengths, self.variables = [], {}, {}, {}

    def parsed(self, source: str) -> tuple[Template | None, list[str]]:
        """The syntax tree, and what the text reads that a broadcast cannot give."""
        try:
            ast = self.renderer.env.parse(source)
        except TemplateSyntaxError as exc:
            return None, [f"template syntax error: {exc.message} (line {exc.lineno})"]
        except RecursionError:
            return None, ["an expression nests too deeply: split it into simpler ones"]
        used = templates.usage(ast)
        unknown = sorted(used.names - _NAMES)
        unknown += sorted(".".join(p) for p in used.paths if p[0] == "user" and
                          p[1] not in USER_FIELDS)  # fmt: skip
        return ast, [
            f"unknown variable '{name}': a broadcast goes to everyone, wherever they are in "
            "the conversation, and may use {{ user.first_name }} only"
            for name in unknown
        ]


def check_text(dialogs: DialogSet, source: str, lang: str) -> Checked:
    """An operator's text for `lang`, checked like a dialog text (module docstring)."""
    if not source.strip():
        return Checked(("the text is empty",))
    checks = _TextChecks(dialogs.renderer, lang)
    ast, errors = checks.parsed(source)
    if ast is None or errors:
        return Checked(tuple(errors))
    checks.bounded(None, 1, f"text.{lang}", ast, _TABLE, _WHERE)
    errors += [p.message for p in checks.problems]
    if errors:
        return Checked(tuple(errors))
    try:
        sample = {"user": {"first_name": SAMPLE_NAME, "lang": lang}}
        shown = dialogs.renderer.render(source, sample)
    except (RenderError, *RENDER_FAILURES) as exc:  # the renderer lets those through
        return Checked((f"it cannot be written out: {exc}",))
    if not shown.strip():
        return Checked(("the text is empty once written out",))
    if (problem := check_html(shown)) is not None:
        return Checked((f"Telegram would refuse its HTML: {problem}",))
    if visible_length(shown) > TELEGRAM_TEXT_LIMIT:
        return Checked((f"it is over Telegram's {TELEGRAM_TEXT_LIMIT} characters",))
    warnings: list[str] = []
    if typography.applies(lang) and suspect(source):
        skeleton = checks._skeleton(source)
        warnings = findings(visible(skeleton)) if skeleton is not None else []
    return Checked((), tuple(warnings))


@dataclass(frozen=True, slots=True)
class Desk:
    """What the operators' lookup reads and checks (the feature's `BroadcastDesk`)."""

    reads: BroadcastQueries
    default_language: str

    def check(self, dialogs: DialogSet, source: str, lang: str) -> Checked:
        return check_text(dialogs, source, lang)


def serve_broadcasts(
    conversations: Conversations,
    store: SqlStore,
    default_language: str,
    per_second: float,
    broadcaster: Broadcaster | None = None,
    wake: Callable[[], None] | None = None,
) -> None:
    """Let the operators write broadcasts in these conversations: their lookup reads the
    store and checks texts, their effects are carried out (jobs at `per_second`); the
    `broadcaster` (or `wake`), if any, is woken when a job starts or resumes."""
    desk = Desk(store.broadcasts, default_language)
    conversations.services = replace(conversations.services, broadcasts=desk)
    if wake is None:
        wake = broadcaster.wake if broadcaster is not None else (lambda: None)
    conversations.carry_out.update(effect_handlers(store.broadcasts, per_second, wake))


async def start_broadcasts(
    app: Any, config: Config, conversations: Conversations, store: SqlStore, sender: Sender
) -> None:
    """When this worker takes the sending role: the running job (if any) goes on. Every
    worker serves the operators' broadcast commands (`serve_broadcasts`, in `post_init`);
    the one sending moves the recipients, and is woken here when the job is its own."""
    pace = config.broadcast.per_second
    broadcaster = Broadcaster(
        store.broadcasts, lambda: conversations.dialogs, sender.wake, per_second=pace
    )
    app.bot_data["broadcaster"] = broadcaster
    app.bot_data["tasks"].append(broadcaster.start())


async def stop_broadcasts(app: Any) -> None:
    """In `post_shutdown`, before the sender and the store: no more moves."""
    broadcaster: Broadcaster | None = app.bot_data.pop("broadcaster", None)
    if broadcaster is not None:
        await broadcaster.close()
