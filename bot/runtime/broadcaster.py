"""The broadcaster: a running broadcast's recipients moved into the outbox a few at a
time, and the operators' broadcast effects carried out.

- Paced: at most `per_second` people a second (a token bucket refilled every look,
  `tick`, holding at most one look's worth), and only while the outbox holds fewer than
  `backlog` background rows (reminders, alerts, broadcasts): the sender serves people's
  replies first, and the outbox never fills with a broadcast it cannot send yet (a 429,
  an outage).
- Exactly once into the outbox: each recipient's `queued` and its outbox row are one
  transaction, guarded by the recipient still waiting and the job still running.
- The text is rendered for each person when their row is written (their first name and
  language then), with the renderer of the dialog set served then.
- Nothing is kept in memory: a paused job moves nobody, and after a restart the running
  job goes on from the people still waiting (those queued are in the outbox already).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime

from bot.core.events import Send
from bot.core.model import Dialogs
from bot.core.render import RenderError, truncate_visible
from bot.core.turn import Turn
from bot.features.operators.broadcast import controlled_replies, started_replies
from bot.features.operators.records import ControlBroadcast, DropDraft, SaveDraft, StartBroadcast
from bot.runtime.clock import utc_now
from bot.runtime.conversation import CarryOut
from bot.runtime.lanes import keep_pumping
from bot.store.broadcasts import BroadcastQueries, RunningJob

log = logging.getLogger(__name__)
# What a template may raise besides RenderError: Jinja2 wraps only its own errors (a
# `{{ 1 // 0 }}` raises ZeroDivisionError as it is).
RENDER_FAILURES = (ArithmeticError, LookupError, TypeError, ValueError)


def render_for(dialogs: Dialogs, job: RunningJob, first_name: str, lang: str) -> str | None:
    """The job's text for one person: in their language, else the default language's,
    typeset as the language it is written in (None: it cannot be rendered for them)."""
    written_in = lang if lang in job.texts else job.default_lang
    source = job.texts.get(written_in)
    if source is None:
        return None
    context = {"user": {"first_name": first_name, "lang": written_in}}
    try:
        text = truncate_visible(dialogs.renderer.render(source, context))
    except (RenderError, *RENDER_FAILURES):
        return None
    return text or None


class Broadcaster:
    """Moves the running job's recipients into the outbox (see the module's docstring)."""

    def __init__(
        self,
        jobs: BroadcastQueries,
        dialogs: Callable[[], Dialogs],
        queued: Callable[[], None],
        *,
        per_second: float,
        tick: float = 0.1,
        backlog: int | None = None,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.jobs, self.dialogs, self.queued = jobs, dialogs, queued
        self.per_second, self.tick = per_second, tick
        self.burst = max(1.0, per_second * tick)  # the most one look moves
        # background rows in the outbox beyond which nobody more is moved: a second's worth
        self.backlog = backlog or max(10, math.ceil(per_second))
        self.clock, self.monotonic = clock, monotonic
        self._allowance = 0.0
        self._last: float | None = None
        self._wake = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self.moved = 0  # people put in the outbox since start

    def wake(self) -> None:
        """A job started or resumed: look now rather than at the next tick."""
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name="broadcaster")
        return self._task

    async def run(self) -> None:
        await keep_pumping(self.step, self._wake, lambda: self._closed, self.tick,
                           "broadcasts", log)  # fmt: skip

    async def close(self) -> None:
        """Stop after the look in hand (what it moved is committed, or not at all)."""
        self._closed = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def step(self) -> int:
        """One look: move as many people as the pace and the outbox allow; how many."""
        self._wake.clear()
        job = await self.jobs.running()
        moment = self.monotonic()
        if job is None:  # none, or paused: the pace starts afresh when one runs
            self._last, self._allowance = None, 0.0
            return 0
        if self._last is None:
            self._allowance = self.burst
        else:
            refill = (moment - self._last) * self.per_second
            self._allowance = min(self.burst, self._allowance + refill)
        self._last = moment
        whole = int(self._allowance + 1e-9)  # 0.7 - 0.6 is 0.0999… s: still one person
        room = min(whole, self.backlog - await self.jobs.background())
        if room <= 0:
            return 0
        people = await self.jobs.waiting(job.id, room)
        if not people:
            if await self.jobs.finish(job.id, self.clock()):
                log.info("broadcast %s done", job.id)
            return 0
        dialogs = self.dialogs()
        messages: list[tuple[int, str]] = []
        settled: list[tuple[int, str]] = []
        for person in people:
            if not person.reachable:  # blocked the bot or said /stop since it was confirmed
                settled.append((person.user_id, "skipped"))
            elif (text := render_for(dialogs, job, person.first_name, person.lang)) is None:
                log.warning("broadcast %s cannot be written for %s", job.id, person.user_id)
                settled.append((person.user_id, "refused"))
            else:
                messages.append((person.user_id, text))
        await self.jobs.queue(job.id, messages, settled, self.clock())
        self._allowance -= len(messages)
        self.moved += len(messages)
        if messages:
            self.queued()
        return len(messages)


def effect_handlers(
    jobs: BroadcastQueries, per_second: float, wake: Callable[[], None] = lambda: None
) -> Mapping[type, CarryOut]:
    """What the operators' broadcast effects do (`Conversations.carry_out`): the draft
    kept or dropped, the job started (`per_second`: its pace), paused, resumed or
    cancelled; `wake` tells the broadcaster a job may run now."""

    async def save(effect: SaveDraft, turn: Turn) -> list[Send]:
        await jobs.save_draft(turn.state.user_id, effect.texts, turn.now)
        return []

    async def drop(effect: DropDraft, turn: Turn) -> list[Send]:
        await jobs.drop_draft(turn.state.user_id)
        return []

    async def start(effect: StartBroadcast, turn: Turn) -> list[Send]:
        outcome = await jobs.start(
            turn.state.user_id, effect.texts, effect.default_lang, per_second, turn.now
        )
        if outcome.result == "started":
            log.info("broadcast %s started for %d people by %s", outcome.job.id,
                     outcome.job.total, turn.state.user_id)  # fmt: skip
            wake()
        return started_replies(turn, outcome)

    async def control(effect: ControlBroadcast, turn: Turn) -> list[Send]:
        outcome = await jobs.control(effect.action, turn.now)
        if outcome.result == "done" and outcome.job is not None:
            log.info("broadcast %s: %s by %s", outcome.job.id, effect.action, turn.state.user_id)
            wake()
        return controlled_replies(turn, outcome)

    return {SaveDraft: save, DropDraft: drop, StartBroadcast: start, ControlBroadcast: control}
