"""One source, two formats: a cmlops spec <-> an AMP ``.project-metadata.yaml``.

``export_amp(spec)`` writes the AMP that does in CML what the spec does for one model: the jobs its
training job follows (``after``), then the training job (create_job/run_job each), then
create_model/build_model/deploy_model. What an AMP cannot say (gates, smoke expectations, the PRD
project) is listed in the header comment.

``import_amp(loaded)`` writes a version 2 spec from an AMP: the job or session whose script logs the
model becomes the model's job and a job installing packages before it the job it runs ``after``
(``mapping``); ``create_model``/``deploy_model`` give the model's ``endpoint``; everything the AMP does
not say is filled with the flagship spec's defaults, each marked by a comment. The spec is built in
the version 1 layout and converted by ``automation.spec.migrate`` (one conversion for everything).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automation.amp.files import named_files
from automation.amp.loader import LoadedAmp
from automation.amp.mapping import AmpMapping, map_amp
from automation.amp.model import AMP_FILENAME, BuildModel, CreateModel, DeployModel
from automation.amp.plan import deployment_fields, runtime_wanted
from automation.amp.yamlwrite import dump
from automation.spec import migrate

INSTALL_SCRIPT = "code/amp/install.py"
PREDICT_SCRIPT = "code/amp/predict.py"
PREDICT_FUNCTION = "predict"
FLAGSHIP = "specs/wine-quality.yaml"

# What the flagship spec (specs/wine-quality.yaml) says where an AMP is silent.
FLAGSHIP_DEFAULTS: dict[str, Any] = {
    "runtime": {"editor": "Workbench", "kernel": "Python 3.10", "edition": "Standard"},
    "experiment": "wine-quality-test",
    "registered_name": "wine-quality",
    "artifact_path": "model",
    "select": {"strategy": "latest", "metric": "rmse", "order": "min"},
    "gates": {
        "thresholds": [{"metric": "r2", "min": 0.1}, {"metric": "rmse", "max": 0.9}],
        "no_worse_than_prd": {"metric": "rmse", "higher_is_better": False, "tolerance": 0.02},
    },
    "smoke": {
        "input": {"input": [[7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]]},
        "expect": {"count": 1, "min": 3, "max": 9},
    },
}
_FROM_FLAGSHIP = f"the AMP does not say: the flagship's default ({FLAGSHIP})"


def _num(value: float) -> int | float:
    """1.0 -> 1 so exported files read like hand-written ones."""
    return int(value) if float(value).is_integer() else value


# --- spec -> AMP ---------------------------------------------------------------------------------------


@dataclass
class ExportedAmp:
    """An exported AMP: the file's text and the scripts it needs that its repository lacks (written
    with it, so every script the AMP names exists in the exported repository)."""

    text: str
    files: dict[str, str] = field(default_factory=dict)


def predict_source() -> str:
    """The model function an exported AMP builds from (serves the newest registered version)."""
    return (Path(__file__).parent / "predict_registered.py").read_text(encoding="utf-8")


def export_amp(
    spec: Any,
    *,
    date: _dt.date | None = None,
    author: str = "cmlops",
    root: str | Path | None = None,
    model: str | None = None,
) -> ExportedAmp:
    """The ``.project-metadata.yaml`` for ``spec`` (a loaded ``automation.spec.Spec``) and its model
    ``model`` (None: the only one), to be written at the root of the repository ``root`` (default: the
    spec's), with the scripts it lacks.

    Load the spec with an empty environment (``load_spec(path, environ={})``) so ``${VAR:-default}``
    values export as their defaults rather than this machine's settings.
    """
    root = Path(root or spec.repo_root)
    chosen = spec.model_named(model)
    job_name = chosen.job
    job = spec.jobs[job_name]
    dep = chosen.endpoint
    date = date or _dt.date.today()
    experiment_var = "EXPERIMENT_NAME"
    model_var = "REGISTER_MODEL_NAME"

    env_vars: dict[str, Any] = {
        experiment_var: {
            "default": chosen.experiment,
            "description": "MLflow experiment the training job logs to.",
        },
        model_var: {
            "default": chosen.registered_name,
            "description": "Registered model name: the training job registers a version, the model serves it.",
        },
    }
    job_env: dict[str, str] = {}
    for key, value in job.environment.items():
        if key in env_vars:
            continue
        if value == "":
            env_vars[key] = {
                "default": "",
                "description": f"Training job variable {key} (empty in the spec).",
            }
        else:
            job_env[key] = value
    tasks: list[dict[str, Any]] = _install_tasks(spec, job_name, root)
    train: dict[str, Any] = {
        "type": "create_job",
        "name": job_name,
        "entity_label": "train",
        "script": job.script,
        "arguments": job.arguments or "None",
        "short_summary": f"Create the training job ({job.script}).",
        "cpu": _num(job.cpu),
        "memory": _num(job.memory),
    }
    if job.gpus:
        train["gpu"] = job.gpus
    train["timeout"] = job.timeout
    train["environment"] = {"TASK_TYPE": "CREATE/RUN_JOB", **job_env}
    tasks += [
        train,
        {"type": "run_job", "entity_label": "train", "short_summary": "Train and log the model."},
    ]

    model: dict[str, Any] = {
        "type": "create_model",
        "name": dep.model_name,
        "entity_label": "model",
        "description": dep.description or f"{spec.name} model",
        "short_summary": "Create the model endpoint.",
    }
    if dep.auth:
        model["access_key_environment_variable"] = "MODEL_ACCESS_KEY"
    else:
        model["auth_enabled"] = False
    model["default_resources"] = {"cpu": _num(dep.cpu), "memory": _num(dep.memory)}
    model["default_replication_policy"] = {"type": "fixed", "num_replicas": dep.replicas}
    build: dict[str, Any] = {
        "type": "build_model",
        "name": f"Build {dep.model_name}",
        "entity_label": "model",
        "target_file_path": PREDICT_SCRIPT,
        "target_function_name": PREDICT_FUNCTION,
        "comment": "Built from the registered model (cmlops export)",
        "short_summary": "Build the model image.",
    }
    if dep.smoke is not None:
        build["examples"] = [{"request": dep.smoke.input, "response": ""}]
    deploy: dict[str, Any] = {
        "type": "deploy_model",
        "name": f"Deploy {dep.model_name}",
        "entity_label": "model",
        "cpu": _num(dep.cpu),
        "memory": _num(dep.memory),
        "gpu": dep.gpus,
        "short_summary": "Deploy the model endpoint.",
    }
    if dep.environment:
        deploy["environment_variables"] = dict(dep.environment)
    tasks += [model, build, deploy]

    data: dict[str, Any] = {
        "name": spec.name,
        "description": spec.projects.dev.description or f"{spec.name}, exported from a cmlops spec.",
        "author": author,
        "specification_version": "1.0",
        "prototype_version": "1.0",
        "date": date.isoformat(),
        "environment_variables": env_vars,
        "runtimes": [
            {"editor": spec.runtime.editor, "kernel": spec.runtime.kernel, "edition": spec.runtime.edition}
        ],
        "tasks": tasks,
    }
    source = spec.source_path.name if spec.source_path else "a cmlops spec"
    header = [
        f"AMP exported by `cmlops amp export` from {source}; check it with `cmlops amp validate`.",
        "Not expressible in an AMP (use `cmlops promote` for them): the promotion gates, the smoke",
        "test's expectations, and the separate PRD project (an AMP deploys inside its own project).",
        f"The model is built from {PREDICT_SCRIPT}, which serves the latest version of ${model_var}.",
    ]
    files = {} if (root / PREDICT_SCRIPT).is_file() else {PREDICT_SCRIPT: predict_source()}
    if files:
        header.append(f"{PREDICT_SCRIPT} was written with this file by the export.")
    return ExportedAmp(dump(data, header=header), files)


def _install_tasks(spec: Any, job_name: str, root: Path) -> list[dict[str, Any]]:
    """create_job + run_job for each job the training job follows, root first (else this repository's
    code/amp/install.py): an AMP runs its tasks in order, which is what ``after`` means."""
    parents = spec.ancestors(job_name)
    jobs: list[dict[str, Any]] = []
    for name in parents:
        parent = spec.jobs[name]
        jobs.append(
            {
                "name": name,
                "script": parent.script,
                "arguments": parent.arguments or "None",
                "cpu": _num(parent.cpu),
                "memory": _num(parent.memory),
                "timeout": parent.timeout,
            }
        )
    if not jobs and (root / INSTALL_SCRIPT).is_file():
        jobs.append(
            {
                "name": "Install dependencies",
                "script": INSTALL_SCRIPT,
                "arguments": "None",
                "cpu": 1,
                "memory": 2,
            }
        )
    tasks: list[dict[str, Any]] = []
    for index, job in enumerate(jobs):
        label = "install_deps" if index == len(jobs) - 1 else f"install_deps_{index + 1}"
        create = {
            "type": "create_job",
            **job,
            "entity_label": label,
            "short_summary": "Create the job that installs the Python requirements."
            if label == "install_deps"
            else f"Create the job {job['name']} (the training job follows it).",
            "environment": {"TASK_TYPE": "CREATE/RUN_JOB"},
        }
        summary = "Install the requirements." if label == "install_deps" else f"Run {job['name']}."
        tasks += [create, {"type": "run_job", "entity_label": label, "short_summary": summary}]
    return tasks


# --- AMP -> spec -----------------------------------------------------------------------------------------


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-")
    return slug or "amp"


def _escape(value: str) -> str:
    """A literal ``${`` in a spec is written ``$${``."""
    return value.replace("${", "$${")


def _env(values: dict[str, str]) -> dict[str, str]:
    return {k: _escape(v) for k, v in values.items()}


def _env_default(loaded: LoadedAmp, names: tuple[str, ...]) -> str | None:
    for name in names:
        var = loaded.amp.environment_variables.get(name)
        if var is not None and var.value.strip():
            return var.value
    return None


def import_amp(
    loaded: LoadedAmp,
    *,
    git_url: str | None = None,
    git_ref: str | None = None,
    training_job: str | None = None,
    mapping: AmpMapping | None = None,
) -> str:
    """A cmlops spec (YAML text) doing what the AMP's training and model tasks do (``map_amp`` decides
    which job trains and which installs; an InputError says why when no sound mapping exists)."""
    amp = loaded.amp
    mapping = mapping or map_amp(loaded, training_job)
    job_task = mapping.training
    comments: dict[Any, str] = {}
    slug = _slug(amp.name)
    runtime = runtime_wanted(amp)
    if amp.runtime() is None:
        comments[("runtime",)] = _FROM_FLAGSHIP

    description = " ".join(amp.description.split())[:2000]
    if git_url:
        source: dict[str, Any] = {"git_url": git_url}
        if git_ref:
            source["git_ref"] = git_ref
    else:
        files = {job_task.script, *named_files(amp)}
        if (loaded.root / "requirements.txt").is_file():
            files.add("requirements.txt")
        source = {"files": sorted(f for f in files if not any(c in f for c in "*?["))}
        comments[("projects", "dev", "source", "files")] = "the scripts the AMP names (add what they import)"

    project_env = {name: var.value for name, var in amp.environment_variables.items()}
    job_env = {**project_env, **job_task.environment}
    experiment = job_env.get("EXPERIMENT_NAME") or _env_default(loaded, ("EXPERIMENT_NAME",))
    if not experiment:
        experiment = FLAGSHIP_DEFAULTS["experiment"]
        comments[("training", "experiment")] = _FROM_FLAGSHIP
    job: dict[str, Any] = {
        "name": job_task.name[:64],
        "script": job_task.script,
        "arguments": _escape(job_task.arguments),
        "environment": _env(dict(job_task.environment)),
        "cpu": _num(job_task.cpu or 1),
        "memory": _num(job_task.memory or 2),
        "gpus": job_task.gpu or 0,
    }
    if job_task.cpu is None or job_task.memory is None:
        comments[("training", "job", "cpu")] = "the AMP does not say: cmlops's default"
    if job_task.timeout:
        job["timeout"] = job_task.timeout

    model_task = next((t for t in amp.tasks if isinstance(t, CreateModel)), None)
    registered = _env_default(loaded, ("REGISTER_MODEL_NAME", "MODEL_NAME"))
    if not registered:
        registered = model_task.name if model_task else FLAGSHIP_DEFAULTS["registered_name"]
        comments[("model", "registered_name")] = (
            "the AMP's create_model name" if model_task else _FROM_FLAGSHIP
        )
    deploy_task = next(
        (
            t
            for t in amp.tasks
            if isinstance(t, DeployModel) and model_task and t.entity_label == model_task.entity_label
        ),
        None,
    )
    deployment: dict[str, Any] = {
        "model_name": model_task.name[:64] if model_task else f"{slug}-endpoint",
        "description": " ".join((model_task.description if model_task else amp.name).split())[:2000],
        "auth": not (model_task and model_task.auth_enabled is False),
    }
    if model_task is None:
        comments[("deployment", "model_name")] = "the AMP creates no model: named after the AMP"
    if deploy_task is not None:
        wanted = deployment_fields(amp, deploy_task)
        deployment.update(
            cpu=_num(wanted["cpu"]),
            memory=_num(wanted["memory"]),
            gpus=wanted["nvidia_gpus"],
            replicas=wanted["replicas"],
            environment=_env(wanted["environment"]),
        )
    else:
        deployment.update(cpu=1, memory=2, gpus=0, replicas=1, environment={})
        comments[("deployment", "cpu")] = "the AMP deploys no model: cmlops's defaults"
    build_task = amp.build_for(model_task.entity_label) if model_task else None
    example = (
        build_task.examples[0].request if isinstance(build_task, BuildModel) and build_task.examples else None
    )
    if isinstance(example, dict) and example:
        deployment["smoke"] = {"input": example}
        comments[("deployment", "smoke", "input")] = "the AMP's first build_model example"
    else:
        deployment["smoke"] = dict(FLAGSHIP_DEFAULTS["smoke"])
        comments[("deployment", "smoke")] = _FROM_FLAGSHIP

    data: dict[str, Any] = {
        "version": 1,
        "name": slug,
        "targets": {
            "local": {"kind": "local", "state_dir": ".cmlops"},
            "cml": {"kind": "cml", "url": "${CML_URL:-}", "api_key": "${env:CML_API_KEY:-}"},
        },
        "runtime": runtime,
        "projects": {
            "dev": {
                "name": f"{slug}-dev",
                "description": description,
                "source": source,
                "environment": _env(project_env),
            },
            "prd": {
                "name": f"{slug}-prd",
                "description": f"{amp.name}: model endpoint"[:2000],
                "environment": {},
            },
        },
        "training": {"experiment": experiment, **_install(mapping), "job": job},
        "model": {
            "registered_name": registered,
            "artifact_path": FLAGSHIP_DEFAULTS["artifact_path"],
            "select": dict(FLAGSHIP_DEFAULTS["select"]),
            "gates": FLAGSHIP_DEFAULTS["gates"],
        },
        "deployment": deployment,
    }
    comments[("model", "artifact_path")] = _FROM_FLAGSHIP
    comments[("model", "select")] = _FROM_FLAGSHIP
    comments[("model", "gates")] = _FROM_FLAGSHIP
    job_name, rules = job["name"], migrate.rules(data)
    migrate.convert_in_place(data)
    comments = migrate.remap(comments, rules)
    header = [
        f"cmlops spec imported by `cmlops amp import` from {Path(loaded.file).name} ({amp.name!r}).",
        f"jobs.{job_name} (the model's job): {job_task.title}, because {mapping.reason}.",
    ]
    if mapping.install is not None:
        header.append(
            f"jobs.{mapping.install.name[:64]} (the model's job runs after it): {mapping.install.title}, "
            "because its script installs packages."
        )
    header += [f"Left out: {why}" for why in mapping.left_out]
    if build_task is not None:
        header.append(
            f"The AMP builds its model from {build_task.target_file_path}:{build_task.target_function_name}; "
            "a spec deploys the registered model version instead."
        )
    header += [
        "models.*.endpoint: its create_model / deploy_model. What the AMP does not give is the flagship's,",
        "marked so in a comment.",
        "Check it with `cmlops validate` before applying it.",
    ]
    return dump(data, comments=comments, header=header)


def _install(mapping: AmpMapping) -> dict[str, Any]:
    step = mapping.install
    if step is None:
        return {}
    install: dict[str, Any] = {"name": step.name[:64], "script": step.script}
    if step.arguments:
        install["arguments"] = _escape(step.arguments)
    install.update(cpu=_num(step.cpu or 1), memory=_num(step.memory or 2))
    if step.timeout:
        install["timeout"] = step.timeout
    return {"install": install}


def default_export_path(spec: Any) -> Path:
    return Path(spec.repo_root) / AMP_FILENAME
