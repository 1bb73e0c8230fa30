"""The funnel as plain text: the terminal table of `vie-coach stats` and the /stats
answer (the caller puts it in <pre>, HTML-escaped). At most about 60 characters wide, so
that a phone shows it without wrapping; labels in English and French.

A group of fewer than 5 people shows "< 5" for every figure, and the note under the
table says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.funnel import SMALL, Funnel, Group, Span

WIDTH = 60
HIDDEN = f"< {SMALL}"
_NUMBER, _SHARE = 8, 6
_LABEL = WIDTH - _NUMBER - _SHARE

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "People who started from {first} to {last} ({days} days)",
        "people": "people",
        "share": "share",
        "started": "started",
        "reached": "reached {name}",
        "completed": "completed {stage}",
        "quiet": "went quiet ({days} d without acting)",
        "quiet_days": "  after (median)",
        "stopped": "stopped reminders",
        "erased": "erased their data",
        "reminders": "reminders sent",
        "came_back": "  followed by a return within a day",
        "to_stage": "median time from the start",
        "to": "  to {stage}",
        "between": "median time between stages",
        "pair": "  {a} to {b}",
        "drop_off": "where the quiet ones stopped",
        "by": "by {by}",
        "note": "< 5: fewer than 5 people, figures not shown",
        "empty": "Nobody has talked to the bot yet: there is nothing to count.",
        "nobody_started": "Nobody started from {first} to {last}.",
        "day": "d",
        "hour": "h",
        "all": "everyone",
        "advocate": "advocate #{label}",
        "others": "{label} other advocates",
        "left": "advocate left",
        "nobody": "nobody invited",
        "columns": "started V I E quiet stop back",
        "by_advocate": "advocate",
        "by_cohort": "week they started",
        "by_language": "language",
        "by_variant": "variant",
    },
    "fr": {
        "title": "Arrivés du {first} au {last} ({days} jours)",
        "people": "pers.",
        "share": "part",
        "started": "ont commencé",
        "reached": "ont atteint {name}",
        "completed": "ont terminé {stage}",
        "quiet": "devenus silencieux ({days} j sans rien)",
        "quiet_days": "  au bout de (médiane)",
        "stopped": "ont coupé les rappels",
        "erased": "ont effacé leurs données",
        "reminders": "rappels envoyés",
        "came_back": "  suivis d'un retour dans la journée",
        "to_stage": "temps médian depuis le début",
        "to": "  jusqu'à {stage}",
        "between": "temps médian entre deux étapes",
        "pair": "  de {a} à {b}",
        "drop_off": "où se sont arrêtés les silencieux",
        "by": "par {by}",
        "note": "< 5 : moins de 5 personnes, chiffres masqués",
        "empty": "Personne n'a encore parlé au bot : il n'y a rien à compter.",
        "nobody_started": "Personne n'est arrivé du {first} au {last}.",
        "day": "j",
        "hour": "h",
        "all": "tout le monde",
        "advocate": "parrainage n° {label}",
        "others": "{label} autres",
        "left": "parrainage effacé",
        "nobody": "sans invitation",
        "columns": "arrivés V I E muets stop retour",
        "by_advocate": "parrainage",
        "by_cohort": "semaine d'arrivée",
        "by_language": "langue",
        "by_variant": "variante",
    },
}


def labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang, LABELS["en"])


def number(n: int) -> str:
    return f"{n:,}"


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else ""


def duration(span: Span | None, lang: str = "en") -> str:
    """A median's range: '3-6 h', '1-2 d', '> 60 d' ('j' in French); '-' if none."""
    if span is None:
        return "-"
    t = labels(lang)
    if span.high is None:
        return f"> {span.low // 24} {t['day']}"
    if span.low == 0:
        return f"< {span.high} {t['hour']}"
    if span.low >= 24:
        return f"{span.low // 24}-{span.high // 24} {t['day']}"
    return f"{span.low}-{span.high} {t['hour']}"


def group_name(group: Group, lang: str = "en") -> str:
    t = labels(lang)
    if group.kind in ("all", "left", "nobody"):
        return t[group.kind]
    if group.kind in ("advocate", "others"):
        return t[group.kind].format(label=group.label)
    return group.label  # a language, an ISO week, experiment/arm, a public first name


def _line(label: str, value: str = "", share: str = "") -> str:
    if len(label) > _LABEL - 1:
        label = label[: _LABEL - 2] + "…"
    return f"{label:<{_LABEL}}{value:>{_NUMBER}}{share:>{_SHARE}}".rstrip()


def _detail(f: Funnel, g: Group, lang: str) -> list[str]:
    t = labels(lang)
    hide = g.hidden

    def row(label: str, n: int | None, of: int | None = None) -> str:
        if n is None:
            return _line(label)
        if hide:
            return _line(label, HIDDEN)
        return _line(label, number(n), percent(n, of) if of is not None else "")

    def span_row(label: str, value: str) -> str:
        return _line(label, HIDDEN if hide else value)

    lines = [_line("", t["people"], t["share"]), row(t["started"], g.started)]
    lines += [row(t["reached"].format(name=m), n, g.started) for m, n in g.milestones]
    lines += [row(t["completed"].format(stage=s), n, g.started) for s, n in g.stages]
    lines.append(row(t["quiet"].format(days=f.quiet_after_days), g.quiet, g.started))
    quiet_days = "-" if g.quiet_days is None else f"{g.quiet_days} {t['day']}"
    lines.append(span_row(t["quiet_days"], quiet_days))
    lines.append(row(t["stopped"], g.stopped, g.started))
    if g.erased is not None:
        lines.append(row(t["erased"], g.erased))
    lines.append(row(t["reminders"], g.reminders))
    lines.append(row(t["came_back"], g.came_back, g.reminders))
    lines.append(_line(t["to_stage"]))
    lines += [span_row(t["to"].format(stage=s), duration(d, lang)) for s, d in g.to_stage]
    lines.append(_line(t["between"]))
    for pair, d in g.between:
        a, b = pair.split(">")
        lines.append(span_row(t["pair"].format(a=a, b=b), duration(d, lang)))
    if f.drop_off:
        lines.append(_line(t["drop_off"]))
        lines += [row(f"  {node}", n, g.quiet) for node, n in f.drop_off]
    return lines


_WIDTHS = (8, 5, 5, 5, 6, 5, 7)  # started, V, I, E, quiet, stop, back (% of reminders)
_GROUP_WIDTH = WIDTH - sum(_WIDTHS)


def _cells(name: str, cells: Sequence[str]) -> str:
    if len(name) > _GROUP_WIDTH - 1:
        name = name[: _GROUP_WIDTH - 2] + "…"
    return f"{name:<{_GROUP_WIDTH}}" + "".join(
        f"{c:>{w}}" for c, w in zip(cells, _WIDTHS, strict=True)
    )


def _groups(f: Funnel, groups: Sequence[Group], lang: str) -> list[str]:
    t = labels(lang)
    lines = [t["by"].format(by=t[f"by_{f.by}"]), _cells("", t["columns"].split())]
    for g in groups:
        if g.hidden:
            cells = [HIDDEN] * len(_WIDTHS)
        else:
            stages = dict(g.stages)
            cells = [number(g.started), *(number(stages[s]) for s in ("V", "I", "E"))]
            cells += [number(g.quiet), number(g.stopped)]
            cells.append(percent(g.came_back, g.reminders) or "-")
        lines.append(_cells(group_name(g, lang), cells))
    return lines


def funnel_table(funnel: Funnel, lang: str = "en") -> str:
    """The funnel as monospace text (about 60 characters wide): the figures of everyone
    who started in the window, then one line per group when split."""
    t = labels(lang)
    days = (funnel.last_day - funnel.first_day).days + 1
    first, last = funnel.first_day.isoformat(), funnel.last_day.isoformat()
    if funnel.empty:
        return t["empty"]
    if not funnel.total.started and not funnel.total.erased:
        return t["nobody_started"].format(first=first, last=last)
    lines = [t["title"].format(first=first, last=last, days=days), ""]
    lines += _detail(funnel, funnel.total, lang)
    if funnel.by is not None and funnel.groups:
        lines += ["", *_groups(funnel, funnel.groups, lang)]
    hidden = funnel.total.hidden or any(g.hidden for g in funnel.groups)
    if hidden:
        lines += ["", t["note"]]
    return "\n".join(lines)
