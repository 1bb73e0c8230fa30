"""What typed text means at a node: a button's label typed, a keyword rule, or an intent.

In order: a button's own label (typos allowed); the node's keyword rules; the likeliest
intent among those this node and the `anywhere` rules name (a node's rule or button wins
over an anywhere rule for the same intent, and an anywhere rule needs a clearer meaning,
and a lead over the step's own likeliest one);
the anywhere keyword rules; a label typed in another language; then a built-in intent
("oui", "je sais pas", "plus tard"…), which every node understands in general terms when
nothing there gives it a meaning. Every intent is scored, so that a clear meaning the
step has no use for is not mistaken for a weak one it has. When nothing is confident,
the two nearest intents this step uses are offered ("did you mean…?").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.core.model import BUILTIN_INTENTS, Button, Dialogs, Node, TextRule
from bot.core.textmatch import matches, normalize
from bot.understanding.labels import label_index
from bot.understanding.matcher import THRESHOLD, Guess

SUGGEST_FROM = 0.08  # a "did you mean…?" intent scores at least this (below `best`'s bar)
SUGGESTIONS = 2
CLEARER = 0.15  # an intent this much clearer, but of no use here, means the step's is wrong
# Leaving the step for an `anywhere` rule takes this score (the step's own, `best`'s bar)...
ANYWHERE_BAR = 0.25
# ...and this lead over the step's own likeliest meaning: "I have everything" at the
# practical check is its "all set" (0.328), not a worry about privacy (0.332).
ANYWHERE_LEAD = 0.05


@dataclass(frozen=True, slots=True)
class Meaning:
    """What the person was taken to mean; all None when nothing matched."""

    button: Button | None = None
    rule: TextRule | None = None
    intent: str | None = None
    heard: str | None = None  # a built-in intent understood, though nothing here uses it
    suggestions: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        """Whether the text means something at this step (a built-in intent heard in
        general terms does not: a question of the step may still take it)."""
        return self.button is not None or self.rule is not None


def own_intents(node: Node | None, buttons: Sequence[Button]) -> list[str]:
    """The intents the step itself gives a meaning to (its rules and buttons)."""
    names: dict[str, None] = {}
    for rule in node.on_text if node else ():
        names.update(dict.fromkeys(rule.intents))
    for button in buttons:
        names.update(dict.fromkeys(button.intents))
    return list(names)


def candidates(dialogs: Dialogs, node: Node | None, buttons: Sequence[Button]) -> list[str]:
    """The intents that mean something here, the node's first."""
    names = dict.fromkeys(own_intents(node, buttons))
    for rule in dialogs.anywhere:
        names.update(dict.fromkeys(rule.intents))
    return list(names)


def action_for(
    dialogs: Dialogs, node: Node | None, buttons: Sequence[Button], intent: str
) -> Button | TextRule | None:
    """What this intent does here: the node's rule, its button, else an anywhere rule."""
    for rule in node.on_text if node else ():
        if intent in rule.intents:
            return rule
    for button in buttons:
        if intent in button.intents:
            return button
    return next((rule for rule in dialogs.anywhere if intent in rule.intents), None)


def understand(
    dialogs: Dialogs, node: Node | None, buttons: Sequence[Button], text: str, lang: str
) -> Meaning:
    """What `text` means at `node`, whose visible buttons are `buttons`."""
    langs = (lang, *(other for other in dialogs.languages if other != lang))
    matcher = dialogs.matcher
    typed = _label(buttons, text, lang)
    if typed is not None:
        return Meaning(button=typed)
    said = normalize(text)
    rule = _keywords(node.on_text if node else (), said, langs)
    if rule is not None:
        return Meaning(rule=rule)
    names = candidates(dialogs, node, buttons) if matcher is not None else []
    # every intent is scored, so that a weak meaning of this step does not win over a
    # clear one the step has no use for ("c'est fait" where nothing is to be done)
    scores = matcher.scores(text, lang) if matcher else {}
    overall = _best(scores, scores)
    guess = _best(scores, names)
    if guess is not None and overall is not None and overall.score - guess.score >= CLEARER:
        guess = None
    if guess is not None:
        action = action_for(dialogs, node, buttons, guess.intent)
        own = _best(scores, own_intents(node, buttons)) if _elsewhere(node, action) else None
        # the step's own meaning, if the anywhere one is barely ahead and no clear meaning
        # of another kind rules the step's out (the same test as above, for it)
        if (
            own is not None
            and guess.score - own.score < ANYWHERE_LEAD
            and (overall is None or overall.score - own.score < CLEARER)
        ):
            guess, action = own, action_for(dialogs, node, buttons, own.intent)
        if isinstance(action, Button):
            return Meaning(button=action, intent=guess.intent)
        here = node is not None and action in node.on_text
        # leaving the step for a rule of elsewhere takes more certainty than an answer
        # of the step itself: a wrong turn costs more than a "did you mean…?"
        if here or guess.score >= ANYWHERE_BAR:
            return Meaning(rule=action, intent=guess.intent)
    rule = _keywords(dialogs.anywhere, said, langs)
    if rule is not None:
        return Meaning(rule=rule)
    for other in langs[1:]:  # a label typed in another language: rare, so tried last
        typed = _label(buttons, text, other)
        if typed is not None:
            return Meaning(button=typed)
    # "oui", "je sais pas", "plus tard"… are understood everywhere, even where the dialogs
    # give them no meaning of their own: the engine answers them in general terms
    if overall is not None and overall.intent in BUILTIN_INTENTS:
        return Meaning(heard=overall.intent)
    near = sorted((n for n in names if scores.get(n, 0.0) >= SUGGEST_FROM),
                  key=lambda n: (-scores[n], n))  # fmt: skip
    return Meaning(suggestions=tuple(near[:SUGGESTIONS]))


def _elsewhere(node: Node | None, action: Button | TextRule | None) -> bool:
    """Whether `action` is an `anywhere` rule, which leaves the step."""
    return isinstance(action, TextRule) and (node is None or action not in node.on_text)


def _best(scores: Mapping[str, float], names: Iterable[str]) -> Guess | None:
    """The best of `names` in `scores`, if it is clear enough to act on."""
    best = max(names, key=lambda n: (scores.get(n, 0.0), n), default=None)
    if best is None or scores.get(best, 0.0) < THRESHOLD:
        return None
    return Guess(best, scores[best])


def _label(buttons: Sequence[Button], text: str, lang: str) -> Button | None:
    if not buttons:
        return None
    typed = label_index(text, [b.label.get(lang, "") for b in buttons], lang)
    return None if typed is None else buttons[typed]


def _keywords(rules: Sequence[TextRule], said: str, langs: Sequence[str]) -> TextRule | None:
    for each in langs:
        for rule in rules:
            if matches(said, rule.keywords.get(each, ())):
                return rule
    return None
