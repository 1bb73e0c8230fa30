"""What the running bot counts, for Prometheus (`/metrics`) and `/healthz`.

Each running bot has a registry of its own rather than prometheus-client's global one, so
that a process (a test run) can hold several bots. Counting is a lock and an addition:
cheap next to a turn. The backlog gauges are read from the store when scraped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# seconds: a turn is a few milliseconds; a slow disk or a long lock shows up to the right
TURN_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The bot's counters, gauges and the turn latency histogram."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates = Counter(
            "vie_updates", "Updates from Telegram taken from the inbox, by outcome "
            "(answered: a turn; settled: nothing to say; set_aside: unreadable or failed)",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.turns = Counter(
            "vie_turns", "Turns decided and stored, by what started them (update or nudge)",
            ["kind"], registry=r,
        )  # fmt: skip
        self.turn_seconds = Histogram(
            "vie_turn_seconds", "Time to handle one update or nudge, its turn stored",
            ["kind"], buckets=TURN_BUCKETS, registry=r,
        )  # fmt: skip
        self.replies_sent = Counter(
            "vie_replies_sent", "Outbox rows Telegram accepted, by kind (reply, mark, "
            "notice, nudge)", ["kind"], registry=r,
        )  # fmt: skip
        self.replies_failed = Counter(
            "vie_replies_failed", "Outbox rows dropped unsent, by reason (blocked, refused, "
            "expired)", ["reason"], registry=r,
        )  # fmt: skip
        self.nudges_sent = Counter(
            "vie_nudges_sent", "Reminders and advocates' alerts Telegram accepted", registry=r
        )
        self.throttled = Counter(
            "vie_telegram_429", "Answers 429 (too many requests) from Telegram", registry=r
        )
        self.telegram_errors = Counter(
            "vie_telegram_unavailable", "Calls to Telegram that found it unreachable or failing "
            "(network errors, 5xx)", registry=r,
        )  # fmt: skip
        self.inbox_waiting = Gauge(
            "vie_inbox_waiting", "Updates stored and not yet answered", registry=r
        )
        self.outbox_rows = Gauge("vie_outbox_rows", "Messages waiting to be sent", registry=r)
        self.nudges_due = Gauge(
            "vie_nudges_pending", "Reminders and alerts planned, not yet sent", registry=r
        )
        self.telegram_last_ok = Gauge(
            "vie_telegram_last_success_timestamp_seconds",
            "When Telegram last answered a call (Unix time)", registry=r,
        )  # fmt: skip
        self.last_ok: datetime | None = None
        # labelled children by label: `labels()` costs more than the count itself
        self._children: dict[tuple[str, str], tuple[Any, Any, Any]] = {}
        self._sent: dict[str, Any] = {}

    def update(self, outcome: str, kind: str = "update", seconds: float | None = None) -> None:
        """One update (or nudge, `kind`) handled: its outcome and, when it made a turn,
        how long that took."""
        children = self._children
        key = (outcome, kind)
        bound = children.get(key)
        if bound is None:
            bound = children[key] = (
                self.updates.labels(outcome) if kind == "update" else None,
                self.turns.labels(kind), self.turn_seconds.labels(kind),
            )  # fmt: skip
        if bound[0] is not None:
            bound[0].inc()
        if seconds is not None:
            bound[1].inc()
            bound[2].observe(seconds)

    def sent(self, kind: str) -> None:
        """Telegram accepted an outbox row of this kind."""
        child = self._sent.get(kind)
        if child is None:
            child = self._sent[kind] = self.replies_sent.labels(kind)
        child.inc()

    def telegram_answered(self, now: datetime) -> None:
        """Telegram answered a call (whatever it said): it is reachable."""
        self.last_ok = now
        self.telegram_last_ok.set(now.timestamp())
