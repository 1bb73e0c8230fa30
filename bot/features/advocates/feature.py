"""The advocates as a feature: invitations and who brought whom, the friends dashboard,
alerts about friends, privacy. This record is all the core knows of them."""

from __future__ import annotations

from bot.core.events import NudgeDue, Start, Text
from bot.core.feature import CommandHandler, Feature, PressHandler
from bot.core.model import JOURNEY_STAGE, Node
from bot.core.state import UserState
from bot.core.turn import Turn
from bot.features.advocates import alerts, attribution, dashboard
from bot.features.advocates.invites import CODE_LENGTH, NAME_LIMIT
from bot.features.advocates.lookups import lookup
from bot.features.advocates.records import (
    ALERTS_KEY,
    DIGEST_NAMES,
    DORMANT_KEY,
    FRIENDS_PER_PAGE,
    INVITES_SHOWN,
    LETTER_LIMIT,
    AdvocatePolicy,
)
from bot.features.advocates.state import ADVOCACY, NAME
from bot.features.nudges.policy import NudgePolicy

_PLAIN = ("help_advocates", "ask_referrer", "referrer_none", "referrer_ask", "invite_share_button", "invites_button",
          "invite_button", "invites_none", "invite_revoke_unknown", "friends_none",
          "friends_prev", "friends_next", "privacy_share_on", "privacy_share_off",
          "alerts_turn_on", "alerts_turn_off", "alerts_friends_button", "alerts_stop_button",
          "become_advocate", "invite_letter_button", "helped_wide_button",
          "toolkit_button")  # fmt: skip
MESSAGES = {
    **dict.fromkeys(_PLAIN, frozenset[str]()),
    "privacy_notice": frozenset({"advocate"}),
    "referrer_found": frozenset({"advocate"}),
    "referrer_not_found": frozenset({"again"}),
    "invite_link": frozenset({"invite"}),
    "invite_share_text": frozenset({"link", "code", "name"}),
    "invite_letter_text": frozenset({"link", "code", "name", "bot"}),
    "invite_letter": frozenset({"invite", "letter"}),
    "invite_limit": frozenset({"max"}),
    "invites_list": frozenset({"invitations"}),
    "invite_revoke_button": frozenset({"invite"}),
    "invite_revoked": frozenset({"invite"}),
    "friends": frozenset({"friends", "total", "finished", "page", "pages"}),
    "days_ago": frozenset({"days"}),
    "helped": frozenset({"direct", "finished", "through", "wide"}),
    "privacy": frozenset({"invited", "shares", "advocate"}),
    "alerts_status": frozenset({"on"}),
    "alerts_set": frozenset({"on"}),
    "alert_joined": frozenset({"friend"}),
    "alert_stage": frozenset({"friend"}),
    "alert_dormant": frozenset({"friend"}),
    "alert_digest": frozenset({"joined", "progressed", "dormant", "count", "others"}),
}
# /leaderboard, the old name of /helped, still answers but is no longer in the menu.
MENU = ("invite", "toolkit", "friends", "invites", "alerts", "helped", "privacy")
MESSAGES.update({f"cmd_{name}": frozenset() for name in MENU})
# The tables the advocate features keep, and the column naming the person in each.
TABLES = {"referrals": "friend_id", "invites": "advocate_id", "advocates": "user_id",
          "alerts": "advocate_id"}  # fmt: skip
# Dialog variables set when someone arrives through a friend's invitation.
VARIABLES = {"invited": 5, "advocate_name": 64}


def lengths() -> dict[tuple[str, ...], int]:
    """The longest values the advocate messages receive (names are cut to 64)."""
    code = CODE_LENGTH + 1  # shown with a dash in the middle
    invite = {"link": 110, "code": code, "name": NAME_LIMIT, "joined": 6}
    friend = {"name": 64, "shares": 5, "progress": 32, "last": 40, "dormant": 5, "invite": 32,
              "stage": 1, "stage_name": 40, "days": 5}  # fmt: skip
    out: dict[tuple[str, ...], int] = {}
    out.update({("invite", k): v for k, v in invite.items()})
    out.update({("#item", "invitations", k): v for k, v in invite.items()})
    out.update({("friend", k): v for k, v in friend.items()})
    for group in ("friends", "joined", "progressed", "dormant"):
        out.update({("#item", group, k): v for k, v in friend.items()})
    out[("#items", "invitations")] = INVITES_SHOWN
    out[("#items", "friends")] = FRIENDS_PER_PAGE
    for group in ("joined", "progressed", "dormant"):
        out[("#items", group)] = DIGEST_NAMES
    for name, length in {"advocate": 64, "again": 5, "link": 110, "code": code, "name": NAME_LIMIT,
                         "max": 4, "total": 7, "finished": 7, "page": 6, "pages": 6, "days": 5,
                         "invited": 5, "shares": 5, "on": 5, "count": 7, "others": 7,
                         "direct": 7, "through": 7, "wide": 5, "bot": 33,
                         "letter": LETTER_LIMIT}.items():  # fmt: skip
        out[(name,)] = length
    return out


def feature(policy: AdvocatePolicy | None = None, quiet: NudgePolicy | None = None) -> Feature:
    """The advocate features with their settings (`quiet`: the nudges' quiet hours, which
    alerts respect too)."""
    rules, hours = policy or AdvocatePolicy(), quiet or NudgePolicy()

    def command(action: dashboard.CommandAction) -> CommandHandler:
        return lambda turn, event: action(turn, rules, event)

    def press(action: dashboard.PressAction) -> PressHandler:
        return lambda turn, value, known: action(turn, rules, value, known)

    def on_start(turn: Turn, event: Start) -> bool:
        return attribution.on_start(turn, rules, event)

    def on_text(turn: Turn, node: Node | None, event: Text, other_meaning: bool) -> bool:
        return attribution.answer(turn, rules, event, other_meaning)

    def on_stage(turn: Turn, stage: str) -> None:
        alerts.notify(turn, rules, "stage", stage)

    def after_turn(turn: Turn, before: UserState) -> None:
        if JOURNEY_STAGE in turn.state.completed and JOURNEY_STAGE not in before.completed:
            dashboard.offer_advocacy(turn)
        alerts.watch(turn, rules)

    def alerts_due(turn: Turn, event: NudgeDue) -> None:
        alerts.on_alerts_due(turn, rules, hours, event)

    def dormant_due(turn: Turn, event: NudgeDue) -> None:
        alerts.on_dormant_due(turn, rules)

    return Feature(
        name=NAME,
        commands={name: command(action) for name, action in dashboard.COMMANDS.items()},
        presses={name: press(action) for name, action in dashboard.PRESSES.items()},
        due={ALERTS_KEY: alerts_due, DORMANT_KEY: dormant_due},
        on_start=on_start,
        on_text=on_text,
        on_stage=on_stage,
        after_turn=after_turn,
        lookup=lookup,
        messages=MESSAGES,
        lengths=lengths(),
        variables=VARIABLES,
        menu=MENU,
        part=ADVOCACY,
        tables=TABLES,
    )
