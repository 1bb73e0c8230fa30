"""Who brought whom: the attribution rules, applied when someone arrives. Pure.

First touch wins. An invitation does not count for its own advocate, for someone who
already uses the bot, or when it would make a loop in the referral tree; an unknown or
revoked code is a normal welcome and reveals nothing. Telegram clients sometimes drop
the start payload, so a newcomer who arrives without one is asked, once, whether someone
invited them, and may type the code (or their friend's first name, when the friend made
an invitation in the newcomer's name).
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.events import Start, Text
from bot.core.state import UserState
from bot.core.textmatch import normalize
from bot.core.turn import Turn
from bot.features.advocates import alerts
from bot.features.advocates.effects import CreditReferral
from bot.features.advocates.records import MAX_PATH, REFERRER_QUESTION, AdvocatePolicy, Invitation
from bot.features.advocates.state import ADVOCACY, NAME

MAX_TRIES = 3  # typed answers to "who invited you?" before the question is dropped
# What an answer to "did someone tell you about me?" may mean besides a code or a name.
ANSWERS = ("yes", "no", "dont_know", "nobody_invited", "later", "stop", "help", "menu")


def refusal(state: UserState, invitation: Invitation | None, *, typed: bool) -> str | None:
    """Why this invitation does not count for this person; None when it does."""
    if invitation is None:
        return "unknown"
    if invitation.revoked:
        return "revoked"
    if invitation.advocate_id == state.user_id:
        return "self"
    if ADVOCACY.of(state).referrer is not None:
        return "first_touch"
    if state.started and not typed:
        return "existing_user"
    if state.user_id in invitation.path:
        return "loop"
    return None


def _credit(turn: Turn, policy: AdvocatePolicy, invitation: Invitation) -> None:
    name = invitation.advocate_name
    turn.set_vars({"invited": True, "advocate_name": name})
    mine = ADVOCACY.of(turn.state)
    turn.state = ADVOCACY.put(turn.state, replace(mine, referrer=invitation.advocate_id))
    path = tuple(invitation.path[:MAX_PATH]) or (invitation.advocate_id,)
    turn.effects.append(CreditReferral(invitation.advocate_id, invitation.payload, path))
    alerts.notify(turn, policy, "joined")


def on_start(turn: Turn, policy: AdvocatePolicy, event: Start) -> bool:
    """`/start`: a newcomer's invitation (see `arrive`); for someone who already uses the
    bot, a link only goes to the log (their first touch stands) and the core welcomes
    them back."""
    if not turn.state.started:
        arrive(turn, policy, event)
        return True
    if event.payload:
        turn.record("invite_link", credited=False)
    return False


def arrive(turn: Turn, policy: AdvocatePolicy, event: Start) -> None:
    """A newcomer's first `/start`: credit their invitation if it counts, then welcome
    them; the privacy notice if invited, else the question, asked once."""
    invitation = event.known if isinstance(event.known, Invitation) else None
    reason = refusal(turn.state, invitation, typed=False) if event.payload else "none"
    if event.payload:
        # only credited or not: the person's own log (/mydata) must not tell a revoked
        # code from an unknown one
        turn.record("invite_link", credited=reason is None)
    if invitation is not None and reason is None:
        _credit(turn, policy, invitation)
    turn.record("start", invited=reason is None)
    turn.enter(turn.dialogs.entry)
    if reason is None and invitation is not None:
        turn.say("privacy_notice", advocate=invitation.advocate_name)
    else:
        turn.ask(NAME, REFERRER_QUESTION)
        turn.say("ask_referrer")


def answer(turn: Turn, policy: AdvocatePolicy, event: Text, other_meaning: bool) -> bool:
    """Typed text while "who invited you?" is open. True when it was taken as the answer;
    False lets the engine treat it as ordinary text (it meant something else, or the
    question was not open)."""
    if not turn.was_asked(NAME, REFERRER_QUESTION):
        return False
    invitation = event.known if isinstance(event.known, Invitation) else None
    reason = refusal(turn.state, invitation, typed=True)
    if invitation is not None and reason is None:
        _credit(turn, policy, invitation)
        turn.record("referrer_typed", credited=True)
        name = invitation.advocate_name
        turn.say("referrer_found", advocate=name)
        turn.say("privacy_notice", advocate=name)
        turn.show()
        return True
    answer = turn.means(event.text, ANSWERS)
    if answer in ("no", "nobody_invited", "dont_know"):
        turn.record("referrer_typed", credited=False, answer="none")
        turn.say("referrer_none")
        turn.show()
        return True
    if answer == "yes":  # "oui": then the code or the name, please (no try counted)
        turn.ask(NAME, REFERRER_QUESTION)
        turn.say("referrer_ask")
        return True
    if answer is not None:  # "plus tard", "aidez-moi"…: not an answer, the question closes
        return False
    if other_meaning or not normalize(event.text):
        return False  # it meant something else, or it is no code nor name ("😀😀", "???")
    mine = ADVOCACY.of(turn.state)
    tries = mine.invite_tries + 1
    turn.record("referrer_typed", credited=False)
    # Ask again only after something that looked like a code or a name, not a sentence.
    again = tries < MAX_TRIES and len(event.text.split()) <= 2
    turn.state = ADVOCACY.put(turn.state, replace(mine, invite_tries=tries))
    if again:
        turn.ask(NAME, REFERRER_QUESTION)
    turn.say("referrer_not_found", again=again)
    turn.show()
    return True
