"""The advocate's commands: /invite, /invites, /friends, /helped (once /leaderboard, a
name still understood), /toolkit, /privacy, /alerts. Pure: what they show was looked up
beforehand (see `lookups`) and arrives in `known`. Each command and each of its buttons is
one entry of `COMMANDS` and `PRESSES`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.core.events import ButtonView, CancelNudge, Command, Known, Send
from bot.core.model import STAGES, Target
from bot.core.render import to_plain
from bot.core.turn import Turn
from bot.features.advocates import invites
from bot.features.advocates.effects import CreateInvite, RevokeInvite
from bot.features.advocates.records import (
    DORMANT_KEY,
    FRIENDS_PER_PAGE,
    LETTER_LIMIT,
    AdvocatePolicy,
    Friend,
    FriendsPage,
    Helped,
    Invitation,
    InviteList,
)
from bot.features.advocates.state import ADVOCACY

_CURSOR = re.compile(r"^([np])([0-9]{1,6})_([0-9]{1,15})_(-?[0-9]{1,18})$")  # fits 64 bits
# The advocate's toolkit (how to bring someone in, preparing the visit, a card for a
# doubt, the invitation) is dialog content, written by the operators: /toolkit opens it
# where the dialogs have it.
TOOLKIT = Target("viraliser", "toolkit")


# -- invitations ------------------------------------------------------------------------
def _invite(turn: Turn, policy: AdvocatePolicy, known: Known | None) -> None:
    if not isinstance(known, Invitation) or known.advocate_id != turn.state.user_id:
        turn.say("unknown_command", command="invite")
        return
    limit = policy.max_invites
    if known.fresh and known.active >= limit:
        turn.say("invite_limit", (_list_button(turn),), max=limit)
        return
    if known.fresh:
        turn.effects.append(CreateInvite(known))
        turn.record("invite_created", named=bool(known.name))
    view = _invitation_view(policy, known)
    share_text = to_plain(
        turn.message("invite_share_text", link=view["link"], code=view["code"], name=known.name)
    )
    share = ButtonView(
        turn.label("invite_share_button"), url=invites.share_url(view["link"], share_text)
    )
    letter = turn.button("invite_letter_button", "letter", known.code)
    turn.say("invite_link", (share, letter, _list_button(turn)), invite=view)


def _letter(turn: Turn, policy: AdvocatePolicy, known: Known | None) -> None:
    """The invitation as a text to copy into a text message or an e-mail, for a friend
    who has no Telegram yet: it says how to get it."""
    mine = isinstance(known, Invitation) and known.advocate_id == turn.state.user_id
    if not isinstance(known, Invitation) or not mine or known.revoked:
        turn.record("stale_press", reason="letter_unknown")
        turn.say("invite_revoke_unknown")
        return
    view = _invitation_view(policy, known)
    letter = to_plain(
        turn.message(
            "invite_letter_text", link=view["link"], code=view["code"], name=known.name,
            bot=f"@{policy.bot_username}",
        )
    )  # fmt: skip
    turn.record("invite_letter")
    turn.say("invite_letter", (_list_button(turn),), invite=view, letter=letter[:LETTER_LIMIT])


def _invitation_view(policy: AdvocatePolicy, invitation: Invitation) -> dict[str, Any]:
    link = invites.invite_link(policy.bot_username, invitation.payload)
    return {
        "link": link,
        "code": invites.show_code(invitation.code),
        "name": invitation.name,
        "joined": invitation.joined,
    }


def _invite_button(turn: Turn) -> ButtonView:
    return turn.button("invite_button", "invite", "me")


def _list_button(turn: Turn) -> ButtonView:
    return turn.button("invites_button", "invites", "list")


def _invites(turn: Turn, policy: AdvocatePolicy, known: Known | None) -> None:
    if not isinstance(known, InviteList) or not known.invitations:
        turn.say("invites_none")
        return
    views = [_invitation_view(policy, i) for i in known.invitations]
    revoke = tuple(
        turn.button("invite_revoke_button", "revoke", invitation.code, invite=view)
        for view, invitation in zip(views, known.invitations, strict=True)
    )
    turn.say("invites_list", revoke, invitations=views)


def _revoke(turn: Turn, policy: AdvocatePolicy, known: Known | None) -> None:
    mine = isinstance(known, Invitation) and known.advocate_id == turn.state.user_id
    if not isinstance(known, Invitation) or not mine or known.revoked:
        turn.record("stale_press", reason="revoke_unknown")
        turn.say("invite_revoke_unknown")
        return
    turn.effects.append(RevokeInvite(known.payload))
    turn.record("invite_revoked")
    turn.say("invite_revoked", invite=_invitation_view(policy, known))


# -- friends, and the people helped ----------------------------------------------------------
def _progress_bar(turn: Turn, friend: Friend) -> str:
    reached = dict(friend.reached)
    parts = []
    for stage in STAGES:
        total = turn.dialogs.stage_totals.get(stage, 0)
        if stage in friend.completed:
            parts.append(f"{stage} ✓")
        else:
            parts.append(f"{stage} {min(reached.get(stage, 0), total)}/{total}")
    return " · ".join(parts)


def _days(turn: Turn, moment: datetime | None) -> int:
    return -1 if moment is None else max(0, (turn.now - moment).days)


def friends_button(direction: str, page: int, friend: Friend) -> str:
    """The value of a `!friends:` button: page `page`, the friends after (`n`) or before
    (`p`) `friend`, newest first. `friends_cursor` reads it back."""
    return f"{direction}{page}_{round(friend.joined_at.timestamp() * 1000)}_{friend.user_id}"


def friends_cursor(value: str) -> tuple[int, tuple[int, int] | None, tuple[int, int] | None]:
    """`!friends:` button values: "1" (first page), or `n<page>_<ms>_<id>` (the page after
    that friend) or `p<page>_<ms>_<id>` (before). Anything else is the first page."""
    m = _CURSOR.match(value)
    if m is None:
        return 1, None, None
    direction, page, ms, friend = m.groups()
    cursor, number = (int(ms), int(friend)), max(1, int(page))
    return (number, cursor, None) if direction == "n" else (number, None, cursor)


def _friend_view(turn: Turn, policy: AdvocatePolicy, friend: Friend) -> dict[str, Any]:
    dormant_days = policy.dormant_after.days
    days = _days(turn, friend.active_at or friend.joined_at)
    shares = friend.shares
    return {
        "name": friend.first_name or "?",
        "shares": shares,
        "progress": _progress_bar(turn, friend) if shares else "",
        "last": turn.message("days_ago", days=days) if shares else "",
        "dormant": shares and days >= dormant_days,
        "invite": friend.invite_name,
    }


def _friends(turn: Turn, policy: AdvocatePolicy, known: Known | None) -> None:
    if not isinstance(known, FriendsPage) or known.total == 0 or not known.friends:
        turn.say("friends_none", (_invite_button(turn),))
        return
    pages = max(1, -(-known.total // FRIENDS_PER_PAGE))
    buttons = []
    first, last = known.friends[0], known.friends[-1]
    if known.page > 1:
        cursor = friends_button("p", known.page - 1, first)
        buttons.append(turn.button("friends_prev", "friends", cursor))
    if known.has_next:
        cursor = friends_button("n", known.page + 1, last)
        buttons.append(turn.button("friends_next", "friends", cursor))
    turn.say(
        "friends",
        tuple(buttons),
        friends=[_friend_view(turn, policy, f) for f in known.friends],
        total=known.total, finished=known.finished, page=min(known.page, pages), pages=pages,
    )  # fmt: skip


def _helped(turn: Turn, known: Known | None, wide: bool) -> None:
    """How many people came through the advocate, and (`wide`, if they ask) through
    those people in turn: their own counts only, never a ranking, never anyone's name.
    Those further away are counted as arrived, not by progress: they never chose to show
    it to this person."""
    helped = known if isinstance(known, Helped) else Helped()
    through = max(0, helped.tree - helped.friends)
    buttons = []
    if helped.friends and through and not wide:
        buttons.append(turn.button("helped_wide_button", "helped", "wide"))
    if helped.friends:
        buttons.append(turn.button("alerts_friends_button", "friends", "1"))
    elif _has_toolkit(turn):
        buttons.append(turn.button("toolkit_button", "toolkit", "open"))
    turn.say(
        "helped", tuple(buttons), direct=helped.friends, finished=helped.finished,
        through=through, wide=wide,
    )  # fmt: skip


def _helped_view(turn: Turn, policy: AdvocatePolicy, known: Known | None) -> None:
    _helped(turn, known, wide=False)


# -- the toolkit -------------------------------------------------------------------------------
def _has_toolkit(turn: Turn) -> bool:
    return turn.dialogs.node(TOOLKIT) is not None


def _open_toolkit(turn: Turn) -> bool:
    if not _has_toolkit(turn):
        return False
    turn.record("toolkit")
    turn.enter(TOOLKIT)
    return True


# -- privacy and alerts ---------------------------------------------------------------------
def _privacy(turn: Turn) -> None:
    mine = ADVOCACY.of(turn.state)
    buttons = []
    if mine.referrer is not None:
        value = "share_off" if mine.shares else "share_on"
        buttons.append(turn.button(f"privacy_{value}", "privacy", value))
    turn.say(
        "privacy", tuple(buttons), invited=mine.referrer is not None, shares=mine.shares,
        advocate=str(turn.state.vars.get("advocate_name", "")),
    )  # fmt: skip


def _set_sharing(turn: Turn, on: bool) -> None:
    mine = ADVOCACY.of(turn.state)
    turn.state = ADVOCACY.put(
        turn.state, replace(mine, shares=on, watch_at=None if not on else mine.watch_at)
    )
    if not on and mine.watch_at is not None:
        turn.effects.append(CancelNudge(DORMANT_KEY))
    turn.record("privacy", shares=on)


def _alerts_status(turn: Turn) -> None:
    on = ADVOCACY.of(turn.state).alerts
    value = "off" if on else "on"
    turn.say("alerts_status", (turn.button(f"alerts_turn_{value}", "alerts", value),), on=on)


def _set_alerts(turn: Turn, on: bool) -> None:
    turn.state = ADVOCACY.update(turn.state, alerts=on)
    turn.record("alerts", on=on)
    turn.say("alerts_set", on=on)


def offer_advocacy(turn: Turn) -> None:
    """Eduquer finished: say that the toolkit is there, the day they want to help someone
    in turn (once; the invitation link where the dialogs have no toolkit)."""
    if _has_toolkit(turn):
        button = turn.button("toolkit_button", "toolkit", "open")
    else:
        button = _invite_button(turn)
    turn.effects.append(Send(turn.message("become_advocate"), (button,)))
    turn.record("advocacy_offered")


# -- the tables: a command, or a button, and what it does --------------------------------------
View = Callable[[Turn, AdvocatePolicy, Known | None], None]  # shows what was looked up
CommandAction = Callable[[Turn, AdvocatePolicy, Command], None]
PressAction = Callable[[Turn, AdvocatePolicy, str, Known | None], bool]
_VIEWS: dict[str, View] = {
    "invite": _invite,
    "invites": _invites,
    "friends": _friends,
    "helped": _helped_view,
    "leaderboard": _helped_view,  # the old name of /helped, which people may still type
}


def _privacy_command(turn: Turn, policy: AdvocatePolicy, command: Command) -> None:
    _privacy(turn)


def _toolkit_command(turn: Turn, policy: AdvocatePolicy, command: Command) -> None:
    if not _open_toolkit(turn):
        turn.say("unknown_command", command="toolkit")


def _alerts_command(turn: Turn, policy: AdvocatePolicy, command: Command) -> None:
    wanted = command.args.strip().lower()
    if wanted in ("on", "off", "oui", "non", "yes", "no"):
        _set_alerts(turn, wanted in ("on", "oui", "yes"))
    else:
        _alerts_status(turn)


def _privacy_press(turn: Turn, policy: AdvocatePolicy, value: str, known: Known | None) -> bool:
    # "public_on" / "public_off" (a first name on the old leaderboard) have expired
    if value not in ("share_on", "share_off"):
        return False
    _set_sharing(turn, value == "share_on")
    _privacy(turn)
    return True


def _alerts_press(turn: Turn, policy: AdvocatePolicy, value: str, known: Known | None) -> bool:
    if value not in ("on", "off"):
        return False
    _set_alerts(turn, value == "on")
    return True


def _revoke_press(turn: Turn, policy: AdvocatePolicy, value: str, known: Known | None) -> bool:
    _revoke(turn, policy, known)
    return True


def _letter_press(turn: Turn, policy: AdvocatePolicy, value: str, known: Known | None) -> bool:
    _letter(turn, policy, known)
    return True


def _helped_press(turn: Turn, policy: AdvocatePolicy, value: str, known: Known | None) -> bool:
    _helped(turn, known, wide=value == "wide")
    return True


def _toolkit_press(turn: Turn, policy: AdvocatePolicy, value: str, known: Known | None) -> bool:
    return _open_toolkit(turn)


def _view_command(view: View) -> CommandAction:
    return lambda turn, policy, command: view(turn, policy, command.known)


def _view_press(view: View) -> PressAction:
    def press(turn: Turn, policy: AdvocatePolicy, value: str, known: Known | None) -> bool:
        view(turn, policy, known)
        return True

    return press


COMMANDS: dict[str, CommandAction] = {
    **{name: _view_command(view) for name, view in _VIEWS.items()},
    "toolkit": _toolkit_command,
    "privacy": _privacy_command,
    "alerts": _alerts_command,
}
PRESSES: dict[str, PressAction] = {
    **{name: _view_press(_VIEWS[name]) for name in ("invite", "invites", "friends")},
    "helped": _helped_press,
    "revoke": _revoke_press,
    "letter": _letter_press,
    "toolkit": _toolkit_press,
    "privacy": _privacy_press,
    "alerts": _alerts_press,
}
