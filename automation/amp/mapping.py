"""Which of an AMP's tasks a cmlops spec can carry, decided from what the scripts do.

A spec has one training job (the job that logs the model to MLflow) and optionally one install step
before it. An AMP has any number of jobs and sessions. ``map_amp`` maps them only where that is
sound:

- the **training job** is the job or session whose script logs a model (an MLflow ``log_model``,
  ``autolog`` or ``register_model`` call, or ``registered_model_name=``), or the one named with
  ``--training-job``; never a guess from names or order;
- the **install step** is a job or session before it whose script installs packages (``pip
  install``, ``requirements.txt``);
- every other job or session is **left out** and named, with the reason.

When no sound mapping exists, an InputError says exactly why (no job at all, no script that logs a
model, several that do, scripts not at hand) and how to choose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from automation.amp.loader import LoadedAmp
from automation.amp.model import CreateJob, RunJob, RunSession
from automation.errors import InputError

MAX_SCRIPT_BYTES = 2 * 1024 * 1024
_LOGS_MODEL = re.compile(
    r"\blog_model\s*\(|\bautolog\s*\(|\bregister_model\s*\(|\bregistered_model_name\s*=", re.MULTILINE
)
_INSTALLS = re.compile(
    r"""\bpip3?\b["']?\s*,?\s*["']?install\b|requirements\.txt|\bconda\s+install\b""", re.MULTILINE
)
_COMMENT = re.compile(r"^\s*#.*$", re.MULTILINE)


@dataclass(frozen=True)
class Candidate:
    """A job or session of the AMP that could become the spec's training job or install step."""

    index: int  # the task index (create_job, or run_session)
    kind: str  # job | session
    name: str
    script: str
    cpu: float | None
    memory: float | None
    gpu: int | None
    arguments: str
    environment: dict[str, str]
    timeout: int | None
    ran: bool  # a run_job runs it (a session always runs)

    @property
    def title(self) -> str:
        return f"task {self.index} ({'create_job' if self.kind == 'job' else 'run_session'} {self.name!r})"


@dataclass
class AmpMapping:
    """The AMP's tasks as a spec sees them."""

    training: Candidate
    install: Candidate | None = None
    left_out: list[str] = field(default_factory=list)  # "<task title>: <why>"
    reason: str = ""  # why ``training`` trains


def candidates(loaded: LoadedAmp) -> list[Candidate]:
    """Every job (created by create_job) and every session that runs a script, in task order."""
    amp = loaded.amp
    run_labels = {t.entity_label for t in amp.tasks if isinstance(t, RunJob)}
    found: list[Candidate] = []
    for index, task in enumerate(amp.tasks):
        if isinstance(task, CreateJob):
            found.append(
                Candidate(
                    index,
                    "job",
                    task.name,
                    task.script,
                    task.cpu,
                    task.memory,
                    task.gpu,
                    task.argument_text,
                    dict(task.environment),
                    task.timeout,
                    task.entity_label in run_labels,
                )
            )
        elif isinstance(task, RunSession) and task.script:
            found.append(
                Candidate(
                    index,
                    "session",
                    task.name,
                    task.script,
                    task.cpu,
                    task.memory,
                    task.gpu,
                    "",
                    {},
                    None,
                    True,
                )
            )
    return found


def _source(root: Path, script: str) -> str | None:
    """The script's code without comment lines; None when it is not at hand."""
    path = root / script
    try:
        if not path.is_file() or path.stat().st_size > MAX_SCRIPT_BYTES:
            return None
        return _COMMENT.sub("", path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None


def _named(found: list[Candidate], name: str) -> Candidate:
    amp_names = {c.name: c for c in found}
    if name in amp_names:
        return amp_names[name]
    listed = ", ".join(repr(c.name) for c in found) or "none"
    raise InputError(
        f"--training-job {name!r}: the AMP has no job or session of that name (it has: {listed})",
        hint="give the name: of the create_job or run_session that trains",
    )


def _logger(loaded: LoadedAmp, found: list[Candidate]) -> tuple[Candidate, str]:
    sources = {c.index: _source(loaded.root, c.script) for c in found}
    loggers = [c for c in found if (code := sources[c.index]) is not None and _LOGS_MODEL.search(code)]
    names = " or ".join(f"--training-job {c.name!r}" for c in found[:3])
    if len(loggers) == 1:
        return loggers[0], f"its script {loggers[0].script} logs a model (MLflow)"
    if len(loggers) > 1:
        listed = ", ".join(f"{c.title} ({c.script})" for c in loggers)
        raise InputError(
            f"{loaded.file}: several scripts log a model, so which one trains is a choice: {listed}",
            hint="choose with " + " or ".join(f"--training-job {c.name!r}" for c in loggers),
        )
    missing = [c.script for c in found if sources[c.index] is None]
    if missing:
        raise InputError(
            f"{loaded.file}: cannot tell which job trains: the training job is the one whose script logs "
            f"the model, and these scripts are not here to read: {', '.join(missing)}",
            hint=f"import from the AMP's folder or git URL (its scripts included), or name it: {names}",
        )
    listed = ", ".join(c.script for c in found)
    raise InputError(
        f"{loaded.file}: no job or session of the AMP logs a model (no MLflow log_model, autolog or "
        f"register_model call in {listed}); a cmlops spec's training job must log one",
        hint=f"if one of them trains through other code, name it: {names}",
    )


def map_amp(loaded: LoadedAmp, training_job: str | None = None) -> AmpMapping:
    """Map the AMP's jobs and sessions onto a spec's training job and install step (module doc)."""
    amp = loaded.amp
    found = candidates(loaded)
    if not found:
        kinds = ", ".join(dict.fromkeys(t.type for t in amp.tasks)) or "no tasks at all"
        raise InputError(
            f"{loaded.file}: the AMP runs no job or session ({kinds}), so nothing trains a model for the "
            "spec's training job",
            hint="a cmlops spec needs a training job: add create_job + run_job (or a run_session) for the "
            "script that trains and logs the model",
        )
    if training_job is not None:
        training, reason = _named(found, training_job), "named with --training-job"
    else:
        training, reason = _logger(loaded, found)
    mapping = AmpMapping(training=training, reason=reason)
    for cand in found:
        if cand is training:
            continue
        code = _source(loaded.root, cand.script)
        installs = code is not None and bool(_INSTALLS.search(code))
        if mapping.install is None and cand.index < training.index and installs and cand.ran:
            mapping.install = cand
        elif cand.index > training.index:
            mapping.left_out.append(f"{cand.title}: runs after training; a spec has nothing after its job")
        elif not cand.ran:
            mapping.left_out.append(f"{cand.title}: created but never run by the AMP")
        elif code is None:
            mapping.left_out.append(f"{cand.title}: its script {cand.script} is not here to read")
        else:
            mapping.left_out.append(
                f"{cand.title}: neither installs packages nor trains; a spec runs only an install step "
                "and its training job"
            )
    return mapping
