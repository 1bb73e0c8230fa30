"""Who brought whom: the attribution rules, applied when someone arrives. Pure.

First touch wins. An invitation does not count for its own advocate, for someone who
already uses the bot, or when it would make a loop in the referral tree; an unknown or
revoked code is a normal welcome and reveals nothing. Telegram clients sometimes drop
the start payload, so a newcomer who arrives without one is asked, once, whether someone
invited them, and may type the code (or their friend's first name, when the friend made
an invitation in the newcomer's name).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.events import CreditReferral, Start, Text
from bot.core.state import UserState, evolve
from bot.features.advocates import alerts
from bot.features.advocates.records import MAX_PATH, REFERRER_QUESTION, Invitation

if TYPE_CHECKING:
    from bot.core.engine import Turn

MAX_TRIES = 3  # typed answers to "who invited you?" before the question is dropped


def refusal(state: UserState, invitation: Invitation | None, *, typed: bool) -> str | None:
    """Why this invitation does not count for this person; None when it does."""
    if invitation is None:
        return "unknown"
    if invitation.revoked:
        return "revoked"
    if invitation.advocate_id == state.user_id:
        return "self"
    if state.referrer is not None:
        return "first_touch"
    if state.started and not typed:
        return "existing_user"
    if state.user_id in invitation.path:
        return "loop"
    return None


def _credit(turn: Turn, invitation: Invitation) -> None:
    name = invitation.advocate_name
    turn.set_vars({"invited": True, "advocate_name": name})
    turn.state = evolve(turn.state, referrer=invitation.advocate_id, pending=None)
    path = tuple(invitation.path[:MAX_PATH]) or (invitation.advocate_id,)
    turn.effects.append(CreditReferral(invitation.advocate_id, invitation.payload, path))
    alerts.notify(turn, "joined")


def arrive(turn: Turn, event: Start) -> None:
    """A newcomer's first `/start`: credit their invitation if it counts, then welcome
    them; the privacy notice if invited, else the question, asked once."""
    invitation = event.known if isinstance(event.known, Invitation) else None
    reason = refusal(turn.state, invitation, typed=False) if event.payload else "none"
    if event.payload:
        # only credited or not: the person's own log (/mydata) must not tell a revoked
        # code from an unknown one
        turn.record("invite_link", credited=reason is None)
    if invitation is not None and reason is None:
        _credit(turn, invitation)
    turn.record("start", invited=reason is None)
    turn.enter(turn.dialogs.entry)
    if reason is None and invitation is not None:
        turn.say("privacy_notice", advocate=invitation.advocate_name)
    else:
        turn.state = evolve(turn.state, pending=REFERRER_QUESTION)
        turn.say("ask_referrer")


def answer(turn: Turn, event: Text, *, other_meaning: bool) -> bool:
    """Typed text while "who invited you?" is open. True when it was taken as the answer;
    False lets the engine treat it as ordinary text (it meant something else)."""
    invitation = event.known if isinstance(event.known, Invitation) else None
    reason = refusal(turn.state, invitation, typed=True)
    if invitation is not None and reason is None:
        _credit(turn, invitation)
        turn.record("referrer_typed", credited=True)
        name = invitation.advocate_name
        turn.say("referrer_found", advocate=name)
        turn.say("privacy_notice", advocate=name)
        turn.show()
        return True
    turn.state = evolve(turn.state, pending=None)
    if other_meaning:
        return False
    tries = turn.state.invite_tries + 1
    turn.record("referrer_typed", credited=False)
    # Ask again only after something that looked like a code or a name, not a sentence.
    again = tries < MAX_TRIES and len(event.text.split()) <= 2
    turn.state = evolve(
        turn.state, invite_tries=tries, pending=REFERRER_QUESTION if again else None
    )
    turn.say("referrer_not_found", again=again)
    turn.show()
    return True
