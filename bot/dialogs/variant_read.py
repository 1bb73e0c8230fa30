"""A node's `say:` with named variants (an A/B test), read into an `Experiment`.

```yaml
menu:
  say:
    experiment: menu_wording            # an id, unique in the whole set
    outcome: {milestone: first_install} # or {stage: E}: what counts as converting
    variants:
      warm:  {weight: 1, fr: "…", en: "…"}
      short: {weight: 1, fr: "…", en: "…"}
```

The schema has already checked the shape (ids, types, languages); what it cannot say
with a sentence an operator can act on is said here, each problem at its own line: an
outcome that is not exactly one of `milestone:` and `stage:`, fewer than two variants,
weights below zero, not finite, or all zero. What depends on the rest of the set (unique
names, a milestone that exists, the texts themselves) is checked in `variant_checks`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from bot.core.model import Arm, Experiment, Texts
from bot.dialogs.values import texts
from bot.errors import Problem

# what makes a `say:` one with variants (the schema checks the rest of its shape)
KEYS = ("experiment", "outcome", "variants")
DEFAULT_WEIGHT = 1.0


def has_variants(raw_say: Any) -> bool:
    return isinstance(raw_say, dict) and any(key in raw_say for key in KEYS)


def without_weights(raw_say: Any) -> Any:
    """What of a `say:` with variants a person can see (the variants' texts by name),
    for the node's version: a change of weights, of the outcome or of the experiment's
    name keeps the node's buttons working."""
    if not has_variants(raw_say):
        return raw_say
    variants = raw_say.get("variants") or {}
    return {
        "variants": {
            name: {k: v for k, v in arm.items() if k != "weight"} if isinstance(arm, dict) else arm
            for name, arm in variants.items()
        }
    }


def read_experiment(
    raw_say: Any,
    node: str,
    languages: Iterable[str],
    line: Callable[..., int],
    file: str,
    problems: list[Problem],
) -> tuple[Experiment, Texts]:
    """The experiment of a schema-valid `say:` with variants at `node` ("flow.node"),
    and the texts the node keeps as its `say` (the first variant's). `line(*path)` is
    the line of a key under the `say:`."""
    node_id = node.partition(".")[2]

    def problem(at: int, message: str) -> None:
        problems.append(Problem(file, at, node_id, message))

    name = str(raw_say["experiment"])
    outcome = _outcome(raw_say["outcome"], name, line("outcome"), problem)
    arms = tuple(
        Arm(
            name=str(arm_name),
            weight=_weight(raw.get("weight", DEFAULT_WEIGHT), name, str(arm_name), line, problem),
            say=texts({k: v for k, v in raw.items() if k != "weight"}),
            line=line("variants", arm_name),
        )
        for arm_name, raw in raw_say["variants"].items()
    )
    if len(arms) < 2:
        problem(
            line("variants"),
            f"experiment '{name}' has {len(arms)} variant: an A/B test needs at least two "
            "(or write the text as a plain `say:`)",
        )
    elif all(arm.weight == 0 for arm in arms):
        problem(
            line("variants"),
            f"experiment '{name}': every weight is 0, so nobody new would be shown any "
            "variant: give at least one a weight above 0",
        )
    experiment = Experiment(name, node, outcome, arms, line("experiment"), line("outcome"))
    first = arms[0].say if arms else dict.fromkeys(languages, "")
    return experiment, first


def _outcome(raw: Any, name: str, at: int, problem: Callable[[int, str], None]) -> str:
    found = [(kind, raw[kind]) for kind in ("milestone", "stage") if kind in raw]
    if len(found) != 1:
        problem(
            at,
            f"experiment '{name}': `outcome:` names one thing that counts as converting, "
            "a milestone or a stage: {milestone: first_install} or {stage: E}"
            + (", not both" if found else ""),
        )
    kind, value = found[0] if found else ("milestone", "")
    return f"{kind}:{value}"


def _weight(
    raw: Any, name: str, arm: str, line: Callable[..., int], problem: Callable[[int, str], None]
) -> float:
    # the schema refused anything but a number (true and false included)
    weight = float(raw)
    if math.isfinite(weight) and weight >= 0:
        return weight
    problem(
        line("variants", arm, "weight"),
        f"experiment '{name}', variant '{arm}': weight {raw!r} must be a number of 0 or "
        "more (the variants' shares are their weights over the total; 0 shows it to "
        "nobody new)",
    )
    return 0.0
