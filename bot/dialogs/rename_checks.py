"""`renamed_from:` checked and gathered: where each node's former place leads now.

An operator who renames a node says so on the node (`renamed_from: old_id`, or
`flow.old_id` when it moved from another flow), so that people who stood at the old place
continue at the new one instead of starting the part again. The checks refuse what would
make a move ambiguous or wrong: a former place that still exists, two nodes claiming the
same one, a node naming itself.
"""

from __future__ import annotations

from bot.core.model import Target
from bot.dialogs.parse import Built
from bot.errors import Problem


def renames(built: Built, problems: list[Problem]) -> dict[str, Target]:
    """Each former place ("flow.node") -> the node that took it over; problems noted."""
    moved: dict[str, Target] = {}
    claimed_by: dict[str, str] = {}
    for flow in built.flows.values():
        source = built.sources[flow.id]
        for node in flow.nodes.values():
            line = source.line("nodes", node.id, "renamed_from") or node.line
            for former in node.renamed_from:
                key = f"{former.flow}.{former.node}"
                where = built.flows.get(former.flow)
                if (former.flow, former.node) == (flow.id, node.id):
                    problems.append(
                        Problem(
                            flow.file,
                            line,
                            node.key,
                            f"renamed_from '{key}' names the node itself: write the id it "
                            "had before",
                        )
                    )
                elif where is not None and former.node in where.nodes:
                    problems.append(
                        Problem(
                            flow.file,
                            line,
                            node.key,
                            f"renamed_from '{key}', but '{key}' still exists: delete that "
                            "node, or take it out of renamed_from",
                        )
                    )
                elif key in claimed_by:
                    problems.append(
                        Problem(
                            flow.file,
                            line,
                            node.key,
                            f"renamed_from '{key}' is claimed by '{claimed_by[key]}' too: "
                            "people there can go to only one node, keep it on one",
                        )
                    )
                else:
                    claimed_by[key] = node.key
                    moved[key] = Target(flow.id, node.id)
    return moved
