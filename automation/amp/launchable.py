"""What cmlops can launch: the one list that validate, plan and launch all refuse by.

A task the launcher cannot carry out through API v2 is refused by ``cmlops amp validate`` (as an
error at the task's line), and so by ``plan`` and ``launch`` before anything is written, instead of
halfway through a launch. Facts of the workspace (its runtimes and add-ons) are read by ``plan`` and
``launch`` alike (``plan.observe``).
"""

from __future__ import annotations

from dataclasses import dataclass

from automation.amp.model import AmpFile, RunSession
from automation.spec.yamlload import FieldPath


@dataclass(frozen=True)
class Refusal:
    """One thing in an AMP that cmlops cannot launch: where, why, and what to do instead."""

    path: FieldPath
    message: str
    hint: str


def refusals(amp: AmpFile) -> list[Refusal]:
    """Everything in ``amp`` that a launch would refuse, in task order."""
    found: list[Refusal] = []
    for index, task in enumerate(amp.tasks):
        if isinstance(task, RunSession) and task.code:
            found.append(
                Refusal(
                    ("tasks", index, "code"),
                    f"task {index} (run_session {task.name!r}): inline code cannot be launched: API v2 "
                    "has no sessions, cmlops runs a session's script as a one-off job",
                    "put the code in a script of the repository and name it with script:",
                )
            )
    return found
