"""Issue 13: understanding typed text.
With 300 intents (x 8 examples x 2 languages, built from the real ones), the time of
`Matcher.best` per text (p50, p95; target p95 <= 2 ms) against the old keyword matcher
(`textmatch`) over the same intents' examples in the same run; the matcher's build time;
the import time in a fresh process; accuracy on the phrase file.

`python -m bench.understanding [INTENTS.yaml [PHRASES.yaml]]` (default: the dialogs').
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import yaml

from bench.common import LANGS, ROOT, clock
from bot.app.bootstrap import standard_features
from bot.core.model import IntentText
from bot.core.textmatch import matches, normalize  # the keyword matcher the issue replaces
from bot.core.understand import understand
from bot.dialogs.load import load_dialogs
from bot.understanding import Intent, Matcher, Phrase, evaluate, phrases_from

INTENTS = 300
EXAMPLES = 8
RUNS = 5
SYLLABLES = ("ba", "ko", "ri", "mu", "te", "lo", "sa", "ne", "vi", "du", "pe", "go")
# what importing the package adds to a bot that already has the standard library it uses
IMPORT = (
    "import collections, dataclasses, functools, math, re, unicodedata, time; import bot.errors;"
    " t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"
)


def _vary(sentence: str, variant: int, rng: random.Random) -> str:
    """The sentence with some long words made new, so that vocabularies grow like real ones."""
    if variant == 0:
        return sentence
    words = sentence.split()
    return " ".join(
        w + SYLLABLES[(variant + rng.randrange(3)) % len(SYLLABLES)]
        if len(w) > 4 and rng.random() < 0.5
        else w
        for w in words
    )


def synthetic(real: Sequence[Intent], count: int, seed: int = 13) -> list[Intent]:
    """`count` intents of `EXAMPLES` examples per language, cycling through the real ones."""
    rng = random.Random(seed)
    made = []
    for k in range(count):
        base, variant = real[k % len(real)], k // len(real)
        made.append(
            Intent(
                base.name if variant == 0 else f"{base.name}_{variant}",
                {
                    lang: tuple(
                        _vary(
                            base.examples[lang][(j + variant) % len(base.examples[lang])],
                            variant,
                            rng,
                        )
                        for j in range(EXAMPLES)
                    )
                    for lang in LANGS
                },
            )
        )
    return made


def _typo(text: str, rng: random.Random) -> str:
    """One swapped pair of letters in a word of five or more, as thumbs do."""
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 5]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(len(w) - 1)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def texts(real: Sequence[Intent], phrases: Sequence[Phrase]) -> list[tuple[str, str]]:
    """What people type: the phrase file, else the examples with typos; and a long message."""
    rng = random.Random(7)
    found = [(p.text, p.lang) for p in phrases]
    if not found:
        found = [(_typo(e, rng), lang) for i in real for lang in LANGS for e in i.examples[lang]]
    found.append(("je ne sais pas trop quoi vous dire " * 120, "fr"))  # 4,200 characters
    return found


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.95)]


def timed(work: Callable[[str, str], object], cases: list[tuple[str, str]]) -> list[float]:
    """Milliseconds per text, every text `RUNS` times (each call is one sample)."""
    samples = []
    for _ in range(RUNS):
        for text, lang in cases:
            start = clock()
            work(text, lang)
            samples.append((clock() - start) * 1000)
    return samples


def run(intents_path: Path | None = None, phrases_path: Path | None = None) -> dict[str, float]:
    intents_path = intents_path or ROOT / "dialogs" / "intents.yaml"
    phrases_path = phrases_path or ROOT / "dialogs" / "tests" / "phrases.yaml"
    if not intents_path.exists():
        sys.exit(f"bench.understanding: no intents file at {intents_path}")
    dialogs = load_dialogs(intents_path.parent, LANGS, "welcome", standard_features())
    real = [Intent(i.name, i.examples) for i in dialogs.intents.values()]
    phrases = (
        phrases_from(yaml.safe_load(phrases_path.read_text(encoding="utf-8")))
        if phrases_path.exists()
        else ()
    )
    many = synthetic(real, INTENTS)
    builds: dict[bool, list[float]] = {True: [], False: []}
    for collecting in (True, False) * RUNS:
        if not collecting:
            gc.disable()  # as the dialog loader does while it loads
        start = clock()
        matcher = Matcher(many, LANGS)
        builds[collecting].append((clock() - start) * 1000)
        gc.enable()
    keywords = [{lang: [normalize(e) for e in i.examples[lang]] for lang in LANGS} for i in many]

    def old(text: str, lang: str) -> object:
        typed = normalize(text)
        return [k for k in keywords if matches(typed, k[lang])]

    cases = texts(real, phrases)
    new_p50, new_p95 = percentiles(timed(matcher.best, cases))
    old_p50, old_p95 = percentiles(timed(old, cases))
    # the whole reading of a typed text at a step, as the engine does it (typed label,
    # rules, every intent ranked, built-ins, suggestions), with the 300 intents
    big = replace(
        dialogs,
        matcher=matcher,
        intents={i.name: IntentText(i.name, i.examples, {"fr": i.name, "en": i.name}, 0)
                 for i in many},
    )  # fmt: skip
    menu = big.flows["welcome"].nodes["menu"]

    def at_menu(text: str, lang: str) -> object:
        return understand(big, menu, menu.buttons, text, lang)

    step_p50, step_p95 = percentiles(timed(at_menu, cases))
    labels = ["✅ C'est fait", "Je bloque", "Je le ferai plus tard", "Choisir un autre réseau"]
    label_p50, label_p95 = percentiles(
        timed(lambda text, lang: matcher.label(text, labels, lang), cases)
    )
    # with bytecode, as a deployed bot imports it (the first run writes it)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    imports = {
        module: statistics.median(
            float(subprocess.run([sys.executable, "-c", IMPORT.format(module=module)],
                                 capture_output=True, text=True, check=True, cwd=ROOT,
                                 env=env).stdout)
            for _ in range(RUNS)
        )
        for module in ("Stemmer", "bot.understanding")
    }  # fmt: skip
    figures = {
        "p50_ms": new_p50,
        "p95_ms": new_p95,
        "old_p50_ms": old_p50,
        "old_p95_ms": old_p95,
        "ratio_p95": new_p95 / old_p95,
        "label_p95_ms": label_p95,
        "understand_p95_ms": step_p95,
        "build_ms": statistics.median(builds[True]),
        "build_paused_gc_ms": statistics.median(builds[False]),
        "import_ms": imports["bot.understanding"],
        "import_stemmer_ms": imports["Stemmer"],
    }
    print(f"(u) understanding: {INTENTS} intents x {EXAMPLES} examples x {len(LANGS)} languages,")
    source = "the phrase file" if phrases else "examples with typos"
    print(f"    {len(cases)} texts ({source} + a 4,200-character one)")
    print(f"    Matcher.best per text   : p50 {new_p50:6.3f} ms, p95 {new_p95:6.3f} ms", end="")
    print("  (target p95 <= 2 ms)")
    print(f"    old keyword matcher     : p50 {old_p50:6.3f} ms, p95 {old_p95:6.3f} ms")
    print(f"    ratio p95 new / old     : {figures['ratio_p95']:6.2f}")
    print(f"    Matcher.label (4 labels): p50 {label_p50:6.3f} ms, p95 {label_p95:6.3f} ms")
    print(f"    a typed text at a step  : p50 {step_p50:6.3f} ms, p95 {step_p95:6.3f} ms", end="")
    print("  (understand(): label, rules, all intents ranked; target p95 <= 2 ms)")
    print(
        f"    build the Matcher       : {figures['build_ms']:6.0f} ms, with the collector paused"
        f" {figures['build_paused_gc_ms']:.0f} ms (medians of {RUNS})"
    )
    print(
        f"    import bot.understanding: {figures['import_ms']:6.1f} ms, of which PyStemmer"
        f" {figures['import_stemmer_ms']:.1f} ms (fresh process, median of {RUNS})"
    )
    if phrases:
        report = evaluate(Matcher(real, LANGS), phrases)
        for lang, score in report.languages.items():
            figures[f"accuracy_{lang}"] = score.accuracy
            share = f"{score.accuracy:6.1%} ({score.correct}/{score.total})"
            print(f"    accuracy {lang} (real intents): {share}")
    return figures


if __name__ == "__main__":
    run(*(Path(arg) for arg in sys.argv[1:3]))
