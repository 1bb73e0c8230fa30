"""Load `dialogs/*.yaml` into a DialogSet, collecting every problem with file and line.

Parsing keeps line numbers (ruamel.yaml); structure is validated by JSON Schema; what
a schema cannot say (targets, reachability, templates, Telegram limits) is in checks.py.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bot.core.model import (
    Answer,
    Branch,
    Button,
    Fact,
    Flow,
    Followup,
    IntentText,
    Node,
    TextRule,
    Texts,
)
from bot.core.textmatch import normalize
from bot.dialogs import yamlfile
from bot.dialogs.values import duration, plain, review_date, sets, target, texts
from bot.dialogs.variant_read import has_variants, read_experiment, without_weights
from bot.errors import Problem


@dataclass
class SourceFile:
    """One parsed YAML file, kept for line look-ups."""

    path: str
    doc: Any
    kind: str | None = None
    valid: bool = False

    def line(self, *path: Any) -> int:
        """1-based line of the key (or list item) at `path`; the deepest found."""
        return yamlfile.line_of(self.doc, path)


@dataclass
class Parsed:
    files: list[SourceFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def parse_directory(directory: Path) -> Parsed:
    """Read every `*.yaml` file of `directory`; syntax errors become problems."""
    parsed = Parsed()
    if not directory.is_dir():
        parsed.problems.append(Problem(_display(directory), 0, None, "no such dialog folder"))
        return parsed
    paths = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
    if not paths:
        parsed.problems.append(Problem(_display(directory), 0, None, "no .yaml file here"))
    for path in paths:
        shown = _display(path)
        try:
            doc = yamlfile.load(path.read_text(encoding="utf-8"))
        except yamlfile.MarkedError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 0
            reason = exc.problem or "invalid YAML"
            if exc.context and "duplicate" not in reason:
                reason = f"{exc.context}: {reason}"
            parsed.problems.append(Problem(shown, line, None, f"YAML syntax: {reason}"))
            continue
        except (yamlfile.YamlError, UnicodeDecodeError, OSError) as exc:
            parsed.problems.append(Problem(shown, 0, None, f"cannot read: {exc}"))
            continue
        source = SourceFile(shown, doc)
        if not isinstance(doc, yamlfile.LineDict):
            parsed.problems.append(
                Problem(
                    shown,
                    1,
                    None,
                    "expected a mapping with 'flow', 'facts', 'messages' or 'intents'",
                )
            )
            continue
        source.kind = next((k for k in FILE_KINDS if k in doc), None)
        if source.kind is None:
            parsed.problems.append(
                Problem(
                    shown,
                    1,
                    None,
                    "not a dialog file: no top-level 'flow', 'facts', 'messages' or 'intents'",
                )
            )
            continue
        parsed.files.append(source)
    return parsed


FILE_KINDS = ("flow", "facts", "messages", "intents")


def _rules(
    flow: str,
    raw: Any,
    source: SourceFile,
    languages: Iterable[str],
    path: tuple[str, ...],
    problems: list[Problem],
) -> tuple[TextRule, ...]:
    rules = []
    for i, r in enumerate(raw or ()):
        line = source.line(*path, i)
        where = path[1] if len(path) > 2 else None
        intents = (r["intent"],) if "intent" in r else tuple(r.get("intents") or ())
        if "intent" in r and "intents" in r:
            problems.append(
                Problem(source.path, line, where, "a text rule has 'intent' or 'intents', not both")
            )
        if "match" not in r and not intents:
            problems.append(
                Problem(source.path, line, where,
                        "a text rule needs 'intent:', 'intents:' or 'match:' (what it recognises)")
            )  # fmt: skip
            continue
        if ("goto" in r) == ("say" in r):
            problems.append(
                Problem(source.path, line, where,
                        "a text rule needs either 'goto:' (where it leads) or 'say:' (a reply, "
                        "staying on the node), not both and not neither")
            )  # fmt: skip
            continue
        if "say" in r and "set" in r:
            problems.append(
                Problem(source.path, line, where, "a 'say:' rule cannot 'set:' (use 'goto:')")
            )
            continue
        keywords = r.get("match") or {}
        rules.append(
            TextRule(
                keywords={lang: tuple(normalize(w) for w in keywords.get(lang, ())) for lang in languages},
                target=target(flow, r["goto"]) if "goto" in r else None,
                set=sets(r.get("set")),
                line=line,
                intents=intents,
                reply=texts(r["say"]) if "say" in r else None,
            )
        )  # fmt: skip
    return tuple(rules)


def _followups(raw: Any, source: SourceFile, path: tuple[str, ...]) -> tuple[Followup, ...]:
    return tuple(
        Followup(duration(f["after"]), str(f["after"]), texts(f["say"]), source.line(*path, i))
        for i, f in enumerate(raw or ())
    )


def _waits(raw: Any) -> bool:
    """Whether a node (its raw mapping) stops and waits for the person: it offers
    something to answer, does not move on by itself, and is not a place to stop."""
    offers = raw.get("buttons") or raw.get("on_text") or raw.get("input")
    return bool(offers) and not raw.get("goto") and not raw.get("end")


def _node(
    flow: str,
    node_id: str,
    raw: Any,
    source: SourceFile,
    languages: Iterable[str],
    problems: list[Problem],
    default_nudges: tuple[Followup, ...] = (),
) -> Node:
    # A rename alone changes nothing a person saw: `renamed_from` stays out of the hash,
    # so the buttons of a node that was only renamed keep working; so do new weights.
    defined = {k: v for k, v in plain(raw).items() if k != "renamed_from"}
    defined["say"] = without_weights(defined.get("say"))
    version = hashlib.blake2b(
        json.dumps(defined, sort_keys=True, ensure_ascii=False).encode(), digest_size=3
    ).hexdigest()
    former = raw.get("renamed_from") or ()
    renamed_from = tuple(target(flow, t) for t in ([former] if isinstance(former, str) else former))
    buttons = tuple(
        Button(
            id=b["id"],
            label=texts(b["label"]),
            target=target(flow, b["goto"]),
            set=sets(b.get("set")),
            when=b.get("when"),
            line=source.line("nodes", node_id, "buttons", i),
            intents=tuple(b.get("intents") or ()),
        )
        for i, b in enumerate(raw.get("buttons") or ())
    )
    rules = _rules(
        flow, raw.get("on_text"), source, languages, ("nodes", node_id, "on_text"), problems
    )
    goto_raw = raw.get("goto")
    if isinstance(goto_raw, str):
        goto: tuple[Branch, ...] = (Branch(None, target(flow, goto_raw)),)
    else:
        goto = tuple(Branch(b.get("if"), target(flow, b["goto"])) for b in goto_raw or ())
    if "nudges" in raw:  # its own, or none at all (`nudges: []`)
        nudges = _followups(raw["nudges"], source, ("nodes", node_id, "nudges"))
    else:  # the flow's default, where the person waits
        nudges = default_nudges if _waits(raw) else ()
    raw_input = raw.get("input")
    answer = None
    if raw_input:
        answer = Answer(
            kind=raw_input["kind"],
            save=raw_input["save"],
            target=target(flow, raw_input["goto"]),
            of=raw_input.get("of"),
            shorteners=tuple(raw_input.get("shorteners") or ()),
            line=source.line("nodes", node_id, "input"),
        )
    experiment, say = None, raw["say"]
    if has_variants(say):
        at = partial(source.line, "nodes", node_id, "say")
        where = f"{flow}.{node_id}"
        experiment, say = read_experiment(say, where, languages, at, source.path, problems)
    return Node(
        experiment=experiment,
        input=answer,
        nudges=nudges,
        flow=flow,
        id=node_id,
        say=texts(say),
        fact=raw.get("fact"),
        buttons=buttons,
        on_text=rules,
        goto=goto,
        set=sets(raw.get("set")),
        milestone=raw.get("milestone"),
        completes=bool(raw.get("completes", False)),
        end=bool(raw.get("end", False)),
        line=source.line("nodes", node_id),
        version=version,
        renamed_from=renamed_from,
    )


@dataclass
class Built:
    """A dialog set under construction, plus what the checks need to report lines."""

    flows: dict[str, Flow] = field(default_factory=dict)
    facts: dict[str, Fact] = field(default_factory=dict)
    messages: dict[str, Texts] = field(default_factory=dict)
    sources: dict[str, SourceFile] = field(default_factory=dict)  # flow id -> file
    messages_source: SourceFile | None = None
    facts_source: SourceFile | None = None
    intents: dict[str, IntentText] = field(default_factory=dict)
    intents_source: SourceFile | None = None
    broken_flows: set[str] = field(default_factory=set)  # flows whose schema failed
    broken_facts: bool = False


def build(parsed: Parsed, languages: Sequence[str]) -> Built:
    """Turn the schema-valid files into model objects; note duplicates as problems."""
    built = Built()
    for source in parsed.files:
        doc = source.doc
        if source.kind == "flow":
            flow_id = doc.get("flow")
            if not isinstance(flow_id, str):
                continue
            if flow_id in built.sources or flow_id in built.broken_flows:
                first = built.sources.get(flow_id)
                where = f" (first in {first.path})" if first else ""
                parsed.problems.append(
                    Problem(
                        source.path,
                        source.line("flow"),
                        None,
                        f"duplicate flow id '{flow_id}'{where}",
                    )
                )
                continue
            if not source.valid:
                built.broken_flows.add(flow_id)
                continue
            default_nudges = _followups(doc.get("nudges"), source, ("nudges",))
            nodes = {
                nid: _node(flow_id, nid, raw, source, languages, parsed.problems, default_nudges)
                for nid, raw in doc["nodes"].items()
            }
            anywhere = _rules(
                flow_id, doc.get("on_text"), source, languages, ("on_text",), parsed.problems
            )
            built.flows[flow_id] = Flow(
                flow_id,
                doc.get("stage"),
                doc["start"],
                nodes,
                source.path,
                source.line("flow"),
                anywhere,
                default_nudges,
            )
            built.sources[flow_id] = source
        elif source.kind == "facts":
            if not source.valid:
                built.broken_facts = True
                continue
            for fact_id, raw in doc["facts"].items():
                if fact_id in built.facts:
                    parsed.problems.append(
                        Problem(
                            source.path,
                            source.line("facts", fact_id),
                            None,
                            f"duplicate fact '{fact_id}'",
                        )
                    )
                    continue
                try:
                    reviewed = review_date(raw.get("reviewed"))
                except ValueError:
                    reviewed = None
                    parsed.problems.append(
                        Problem(
                            source.path,
                            source.line("facts", fact_id, "reviewed"),
                            None,
                            f"fact '{fact_id}': reviewed: {raw['reviewed']!r} is not a day; "
                            "write it YYYY-MM-DD, for instance 2026-03-02",
                        )
                    )
                built.facts[fact_id] = Fact(
                    fact_id,
                    texts(raw["text"]),
                    raw["source"],
                    raw["year"],
                    raw.get("url"),
                    source.path,
                    source.line("facts", fact_id),
                    study=texts(raw.get("study", {})),
                    scope=texts(raw.get("scope", {})),
                    reviewed=reviewed,
                )
            built.facts_source = source
        elif source.kind == "intents":
            _intents(built, source, languages, parsed.problems)
        elif source.kind == "messages":
            if not source.valid:
                built.messages_source = built.messages_source or source
                continue
            for key, raw in doc["messages"].items():
                built.messages[key] = texts(raw)
            built.messages_source = source
    return built


def _intents(
    built: Built, source: SourceFile, languages: Sequence[str], problems: list[Problem]
) -> None:
    """The intents of one file (several files may define intents, never the same one)."""
    built.intents_source = built.intents_source or source
    if not source.valid:
        return
    for name, raw in source.doc["intents"].items():
        line = source.line("intents", name)
        if not isinstance(name, str):
            # YAML reads an unquoted yes, no, on or off as a boolean
            problems.append(
                Problem(source.path, line, None,
                        f"intent name {name!r} is not text: write it in quotes, e.g. \"yes\":")
            )  # fmt: skip
            continue
        if name in built.intents:
            first = built.intents[name]
            problems.append(
                Problem(source.path, line, None, f"duplicate intent '{name}' (first at line {first.line})")
            )  # fmt: skip
            continue
        examples = {
            lang: tuple(str(e) for e in (raw["examples"].get(lang) or ())) for lang in languages
        }
        label = texts(raw["label"]) if "label" in raw else {
            lang: (examples[lang] or (name,))[0] for lang in languages
        }  # fmt: skip
        built.intents[name] = IntentText(name, examples, label, line)
