"""How long each value a template receives can be: the table the length bound of
`templates.max_length` reads, for node texts and for the bot's own messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.core.model import Fact
from bot.core.render import TELEGRAM_TEXT_LIMIT
from bot.dialogs import templates
from bot.dialogs.schema import STAGES
from bot.features.advocates.invites import CODE_LENGTH, NAME_LIMIT
from bot.features.advocates.records import DIGEST_NAMES, FRIENDS_PER_PAGE, INVITES_SHOWN, LEADERS

USER_FIELDS = {"first_name": 64, "lang": 2}
PROGRESS_FIELDS = {"reached": 3, "total": 3, "done": 5}
Lengths = dict[tuple[str, ...], int]


def value_lengths(variables: Mapping[str, int], facts: Iterable[Fact]) -> Lengths:
    """Dotted name -> its longest value; `("#items", …)` -> the most items of a list."""
    out: Lengths = {("user", k): v for k, v in USER_FIELDS.items()}
    out.update({("vars", k): v for k, v in variables.items()})
    for stage in STAGES:
        out.update({("progress", stage, k): v for k, v in PROGRESS_FIELDS.items()})
    longest = {"text": 0, "source": 0, "url": 0}
    for fact in facts:
        longest["text"] = max([longest["text"], *(len(t) for t in fact.text.values())])
        longest["source"] = max(longest["source"], len(fact.source))
        longest["url"] = max(longest["url"], len(fact.url or ""))
    out.update({("fact", k): v for k, v in longest.items()})
    out[("fact", "year")] = 4
    out[("#items", "stages")] = len(STAGES)
    out[("limit",)], out[("kind",)], out[("command",)] = 5, 10, 33
    out[("when",)], out[("tz",)] = 24, 64
    out.update(_advocate_lengths())
    return out


def _advocate_lengths() -> Lengths:
    """The longest values the advocate messages receive (names are cut to 64)."""
    code = CODE_LENGTH + 1  # shown with a dash in the middle
    invite = {"link": 110, "code": code, "name": NAME_LIMIT, "joined": 6}
    friend = {"name": 64, "shares": 5, "progress": 32, "last": 40, "dormant": 5, "invite": 32,
              "stage": 1, "stage_name": 40, "days": 5}  # fmt: skip
    leader = {"rank": 2, "name": 64, "me": 5, "finished": 7, "tree": 7, "depth": 2}
    out: Lengths = {}
    out.update({("invite", k): v for k, v in invite.items()})
    out.update({("#item", "invitations", k): v for k, v in invite.items()})
    out.update({("friend", k): v for k, v in friend.items()})
    for group in ("friends", "joined", "progressed", "dormant"):
        out.update({("#item", group, k): v for k, v in friend.items()})
    out.update({("#item", "leaders", k): v for k, v in leader.items()})
    out.update({("mine", k): v for k, v in leader.items()})
    out[("#items", "invitations")] = INVITES_SHOWN
    out[("#items", "friends")] = FRIENDS_PER_PAGE
    out[("#items", "leaders")] = LEADERS
    for group in ("joined", "progressed", "dormant"):
        out[("#items", group)] = DIGEST_NAMES
    for name, length in {"advocate": 64, "again": 5, "link": 110, "code": code, "name": NAME_LIMIT,
                         "domains": 200, "short": 5, "long": 5, "problem": 16,
                         "max": 4, "total": 7, "finished": 7, "page": 6, "pages": 6, "days": 5,
                         "invited": 5, "shares": 5, "public": 5, "on": 5, "count": 7,
                         "others": 7}.items():  # fmt: skip
        out[(name,)] = length
    return out


def too_long(bound: int) -> str:
    if bound >= templates.UNBOUNDED:
        return "can render up to any length (a loop over a list of unknown size)"
    return f"can render up to {bound} characters (Telegram allows {TELEGRAM_TEXT_LIMIT})"
