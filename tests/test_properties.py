"""Properties that must hold for any input (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import callback
from bot.core.dialogset import DialogSet
from bot.core.engine import step
from bot.core.events import Press, Send, Start, Text
from bot.core.render import visible_length
from bot.core.state import new_state
from bot.core.textmatch import matches, normalize

NOW = datetime(2026, 3, 1, tzinfo=UTC)
IDS = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


@given(st.text())
def test_normalize_is_idempotent_and_plain(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert all(c.isascii() for c in once)


FRENCH = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüÿœæ0123456789 '-!?.,", min_size=1
)


@given(FRENCH.filter(lambda t: normalize(t) != ""))
def test_a_text_matches_itself_whatever_case_and_accents(text: str) -> None:
    assert matches(normalize(text.upper()), [normalize(text)])


@given(st.text(max_size=200))
def test_decode_never_raises(data: str) -> None:
    callback.decode(data)


@given(st.from_regex(r"[0-9a-f]{6}", fullmatch=True), IDS, IDS, IDS)
def test_encode_decode_round_trip(version: str, flow: str, node: str, button: str) -> None:
    data = callback.encode_dialog(version, flow, node, button)
    assert callback.decode(data) == callback.DialogPress(version, flow, node, button)


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.text(max_size=300).map(Text), st.text(max_size=80).map(Press)))
def test_any_text_or_press_gets_an_answer_within_telegram_limits(
    mini: DialogSet, event: Text | Press
) -> None:
    state, _ = step(mini, new_state(1, "fr", NOW, "Zoé"), Start(), NOW)
    assert state.started
    after, effects = step(mini, state, event, NOW)
    sent = [e for e in effects if isinstance(e, Send)]
    assert sent
    assert all(0 < visible_length(s.text) <= 4096 for s in sent)
    assert all(len(b.data.encode()) <= 64 for s in sent for b in s.buttons)
    assert after.node in mini.flows[after.flow or ""].nodes
