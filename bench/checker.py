"""(b) Checker time on generated dialog sets of 1,000 and 10,000 nodes: it must grow about
linearly (10x nodes in at most 12x time)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bench.common import LANGS, ROOT, best_of, clock
from bot.app.bootstrap import standard_features
from bot.dialogs.load import check_directory

NODES_PER_FLOW = 100


def generate(folder: Path, nodes: int) -> None:
    """`nodes` nodes in flows of 100: a chain with buttons, texts, templates and a fact."""
    shutil.copy(ROOT / "dialogs" / "messages.yaml", folder)
    shutil.copy(ROOT / "dialogs" / "facts.yaml", folder)
    flows = nodes // NODES_PER_FLOW
    for f in range(flows):
        lines = [f"flow: f{f}", "stage: I", "start: n0", "nodes:"]
        for n in range(NODES_PER_FLOW):
            nxt = (
                f"n{n + 1}"
                if n + 1 < NODES_PER_FLOW
                else (f"f{f + 1}.n0" if f + 1 < flows else "n0")
            )
            lines += [
                f"  n{n}:",
                f'    say: {{fr: "Étape {n}, {{{{ user.first_name }}}} : on continue ?", en: "Step {n}, {{{{ user.first_name }}}}: go on?"}}',
                # a milestone every 20th node: a stage of 10,000 milestones would (rightly)
                # make the progress bar too long for one Telegram message
                *([f"    milestone: m{f}_{n}"] if n % 20 == 0 else []),
                "    buttons:",
                f'      - {{id: next, label: {{fr: "Suivant", en: "Next"}}, goto: {nxt}, set: {{step: {n}}}}}',
                '      - {id: back, label: {fr: "Retour", en: "Back"}, goto: n0, when: "vars.step"}',
                "    on_text:",
                f"      - {{match: {{fr: [suivant, encore], en: [next, more]}}, goto: {nxt}}}",
            ]
            if n % 10 == 0:
                lines.append("    fact: mediametrie_99")
        (folder / f"f{f}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # the entry flow the checker starts from
    (folder / "welcome.yaml").write_text(
        'flow: welcome\nstart: start\nnodes:\n  start:\n    say: {fr: "Bonjour", en: "Hello"}\n    goto: f0.n0\n',
        encoding="utf-8",
    )


def time_check(nodes: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder, nodes)

        def once() -> float:
            start = clock()
            dialogs, problems = check_directory(folder, LANGS, "welcome", standard_features())
            assert dialogs is not None, problems[:3]
            return clock() - start

        return best_of(3 if nodes <= 1000 else 1, once)


def run() -> dict[str, float]:
    small, large = time_check(1000), time_check(10000)
    figures = {"check_1000_s": small, "check_10000_s": large, "ratio_10x": large / small}
    print("(b) checker on generated dialog sets")
    print(f"    1,000 nodes : {small * 1000:8.0f} ms")
    print(f"    10,000 nodes: {large * 1000:8.0f} ms")
    print(f"    ratio       : {figures['ratio_10x']:8.2f}  (target <= 12)")
    return figures


if __name__ == "__main__":
    run()
