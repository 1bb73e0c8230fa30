"""Which arm of an experiment (a `say:` with variants) a person sees. Pure.

Deterministic: a newcomer's arm comes from a hash of the experiment's name and the
person's id, read as a point in [0, 1) and placed on the arms' cumulative weights, so that
the same person gets the same arm in any process, on any machine, with no table to
consult; and the experiment's name salts it, so that two experiments split people
independently.

Sticky: once an arm was shown, it is kept in the person's variables under a name no
dialog variable can have (`variant:<experiment>`: dialog variables are ids), which the
store keeps with the rest of the state. A later change of weights moves only people who
have not seen the text yet; an arm taken out of the YAML sends its people back to the
draw. A pinned arm (a test, `pin`) is kept the same way, so it wins over both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from bot.core.model import Arm, Experiment
from bot.core.state import UserState, evolve
from bot.errors import VieError

PREFIX = "variant:"
_BITS = 53  # a float holds 53 bits exactly: the point is never rounded up to 1.0


def kept_as(experiment: str) -> str:
    """The name of the person's variable that keeps their arm of `experiment`."""
    return PREFIX + experiment


def point(experiment: str, user_id: int) -> float:
    """Where this person falls in [0, 1) for this experiment: the same in every process
    (blake2b, not Python's `hash`, which is salted per process)."""
    digest = hashlib.blake2b(f"{experiment}\x00{user_id}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> (64 - _BITS)) / (1 << _BITS)


def drawn(experiment: Experiment, user_id: int) -> Arm:
    """The arm a newcomer gets: each arm's share of [0, 1) is its weight over the total
    (an arm of weight 0 gets nobody new)."""
    arms = experiment.arms
    weights = [max(arm.weight, 0.0) for arm in arms]
    total = sum(weights)
    if total <= 0:  # refused by the checker; equal shares rather than nobody
        weights, total = [1.0] * len(arms), float(len(arms))
    at = point(experiment.name, user_id) * total
    running = 0.0
    for arm, weight in zip(arms, weights, strict=True):
        running += weight
        if at < running:
            return arm
    # only a rounding at the very top of [0, 1) gets here: the last arm that is open
    return next(
        arm for arm, weight in zip(reversed(arms), reversed(weights), strict=True) if weight > 0
    )


def kept(experiment: Experiment, state: UserState) -> Arm | None:
    """The arm this person was shown (or pinned to), if it still exists."""
    return experiment.arm(state.vars.get(kept_as(experiment.name)))


def arm_of(experiment: Experiment, state: UserState) -> Arm:
    """The arm this person sees: the one they were shown before, else the draw."""
    return kept(experiment, state) or drawn(experiment, state.user_id)


def keep(state: UserState, experiment: Experiment, arm: Arm) -> UserState:
    """The state with `arm` kept as this person's arm of `experiment` (the same state
    when it already was)."""
    name = kept_as(experiment.name)
    if state.vars.get(name) == arm.name:
        return state
    return evolve(state, vars={**state.vars, name: arm.name})


class UnknownArm(VieError):
    """A pin names an experiment or a variant the dialogs do not have (the message lists
    the ones they have)."""


def unknown(experiments: Mapping[str, Experiment], name: str, arm: str) -> str | None:
    """What is wrong with pinning `arm` of experiment `name`, naming what exists (None:
    both exist)."""
    experiment = experiments.get(name)
    if experiment is None:
        known = ", ".join(sorted(experiments)) or "none: no `say:` has variants"
        return f"no experiment {name!r} in the dialogs (experiments: {known})"
    if experiment.arm(arm) is None:
        known = ", ".join(a.name for a in experiment.arms)
        return f"experiment {name!r} has no variant {arm!r} (variants: {known})"
    return None


def pin(state: UserState, experiments: Mapping[str, Experiment], name: str, arm: str) -> UserState:
    """The state with this person pinned to `arm` of experiment `name` (for tests):
    from now on they see it, whatever the draw or the variant they saw before."""
    wrong = unknown(experiments, name, arm)
    if wrong is not None:
        raise UnknownArm(wrong)
    experiment = experiments[name]
    chosen = experiment.arm(arm)
    assert chosen is not None
    return keep(state, experiment, chosen)
