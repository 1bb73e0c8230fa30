"""The advocate's commands: /invite, /invites, /friends, /leaderboard, /privacy, /alerts.
Pure: what they show was looked up beforehand (see `lookups`) and arrives in `known`.
Each command and each of its buttons is one entry of `COMMANDS` and `PRESSES`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.core.events import ButtonView, CancelNudge, Command, Known, Send
from bot.core.model import STAGES
from bot.core.render import to_plain
from bot.core.turn import Turn
from bot.features.advocates import invites
from bot.features.advocates.effects import CreateInvite, RevokeInvite
from bot.features.advocates.records import (
    DORMANT_KEY,
    FRIENDS_PER_PAGE,
    AdvocatePolicy,
    Friend,
    FriendsPage,
    Invitation,
    InviteList,
    Leader,
    Leaderboard,
)
from bot.features.advocates.state import ADVOCACY

_CURSOR = re.compile(r"^([np])([0-9]{1,6})_([0-9]{1,15})_(-?[0-9]{1,18})$")  # fits 64 bits


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
    turn.say("invite_link", (share, _list_button(turn)), invite=view)


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


# -- friends and the leaderboard -----------------------------------------------------------
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


def _leader_view(turn: Turn, leader: Leader, rank: int) -> dict[str, Any]:
    me = leader.user_id == turn.state.user_id
    return {
        "rank": rank,
        "name": leader.first_name if (leader.public or me) and leader.first_name else "",
        "me": me,
        "finished": leader.finished,
        "tree": leader.tree_finished,
        "depth": leader.depth,
    }


def _leaderboard(turn: Turn, policy: AdvocatePolicy, known: Known | None) -> None:
    board = known if isinstance(known, Leaderboard) else Leaderboard((), None)
    leaders = [_leader_view(turn, leader, rank) for rank, leader in enumerate(board.top, start=1)]
    me = board.me
    mine = {"friends": me.friends if me else 0, "finished": me.finished if me else 0,
            "tree": me.tree_finished if me else 0, "depth": me.depth if me else 0}  # fmt: skip
    turn.say("leaderboard", (_invite_button(turn),), leaders=leaders, mine=mine)


# -- privacy and alerts ---------------------------------------------------------------------
def _privacy(turn: Turn) -> None:
    mine = ADVOCACY.of(turn.state)
    buttons = []
    if mine.referrer is not None:
        value = "share_off" if mine.shares else "share_on"
        buttons.append(turn.button(f"privacy_{value}", "privacy", value))
    value = "public_off" if mine.public else "public_on"
    buttons.append(turn.button(f"privacy_{value}", "privacy", value))
    turn.say(
        "privacy", tuple(buttons), invited=mine.referrer is not None, shares=mine.shares,
        public=mine.public, advocate=str(turn.state.vars.get("advocate_name", "")),
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
    """Eduquer finished: invite them to become an advocate in turn (once)."""
    turn.effects.append(Send(turn.message("become_advocate"), (_invite_button(turn),)))
    turn.record("advocacy_offered")


# -- the tables: a command, or a button, and what it does --------------------------------------
View = Callable[[Turn, AdvocatePolicy, Known | None], None]  # shows what was looked up
CommandAction = Callable[[Turn, AdvocatePolicy, Command], None]
PressAction = Callable[[Turn, AdvocatePolicy, str, Known | None], bool]
_VIEWS: dict[str, View] = {
    "invite": _invite,
    "invites": _invites,
    "friends": _friends,
    "leaderboard": _leaderboard,
}


def _privacy_command(turn: Turn, policy: AdvocatePolicy, command: Command) -> None:
    _privacy(turn)


def _alerts_command(turn: Turn, policy: AdvocatePolicy, command: Command) -> None:
    wanted = command.args.strip().lower()
    if wanted in ("on", "off", "oui", "non", "yes", "no"):
        _set_alerts(turn, wanted in ("on", "oui", "yes"))
    else:
        _alerts_status(turn)


def _privacy_press(turn: Turn, policy: AdvocatePolicy, value: str, known: Known | None) -> bool:
    if value not in ("share_on", "share_off", "public_on", "public_off"):
        return False
    what, on = value.split("_")
    if what == "share":
        _set_sharing(turn, on == "on")
    else:
        turn.state = ADVOCACY.update(turn.state, public=on == "on")
        turn.record("privacy", public=on == "on")
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


def _view_command(view: View) -> CommandAction:
    return lambda turn, policy, command: view(turn, policy, command.known)


def _view_press(view: View) -> PressAction:
    def press(turn: Turn, policy: AdvocatePolicy, value: str, known: Known | None) -> bool:
        view(turn, policy, known)
        return True

    return press


COMMANDS: dict[str, CommandAction] = {
    **{name: _view_command(view) for name, view in _VIEWS.items()},
    "privacy": _privacy_command,
    "alerts": _alerts_command,
}
PRESSES: dict[str, PressAction] = {
    **{name: _view_press(view) for name, view in _VIEWS.items()},
    "revoke": _revoke_press,
    "privacy": _privacy_press,
    "alerts": _alerts_press,
}
