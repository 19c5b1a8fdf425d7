"""Checks across sections of a loaded spec, each a SpecError at the line that is wrong: ``after``
naming an unknown job or forming a cycle, a model naming an unknown job, two models on one endpoint,
two applications on one subdomain, target overrides naming something the spec does not have."""

from __future__ import annotations

from collections.abc import Iterable

from automation.errors import SpecError
from automation.spec.diagnostics import did_you_mean
from automation.spec.models import Spec


def _unknown(
    spec: Spec, path: tuple[str, ...], what: str, name: str, known: Iterable[str], *, key: bool
) -> SpecError:
    known = list(known)
    close = did_you_mean(name, known)
    listed = f"known {what}s: {', '.join(known)}" if known else f"the spec has no {what}s"
    hint = (f"did you mean '{close}'? " if close else "") + listed
    return spec.error(path, f"unknown {what} '{name}'", hint=hint, key=key)


def check_jobs(spec: Spec) -> None:
    """Every ``after`` names a job of the spec, and following ``after`` never comes back."""
    for name, job in spec.jobs.items():
        if job.after is not None and job.after not in spec.jobs:
            raise _unknown(spec, ("jobs", name, "after"), "job", job.after, spec.jobs, key=False)
    for name in spec.jobs:
        chain = [name]
        current = spec.jobs[name].after
        while current is not None:
            if current in chain:
                cycle = [*chain[chain.index(current) :], current]
                raise spec.error(
                    ("jobs", current, "after"),
                    f"the jobs' after form a cycle: {' -> '.join(reversed(cycle))}",
                    hint="a job runs after its parent succeeds: one job of the cycle must have no after",
                )
            chain.append(current)
            current = spec.jobs[current].after


def check_models(spec: Spec) -> None:
    """Each model names a job of the spec; no two models share an endpoint."""
    endpoints: dict[str, str] = {}
    for name, model in spec.models.items():
        if model.job not in spec.jobs:
            raise _unknown(spec, ("models", name, "job"), "job", model.job, spec.jobs, key=False)
        endpoint = model.endpoint.model_name
        if endpoint in endpoints:
            raise spec.error(
                ("models", name, "endpoint", "model_name"),
                f"models '{endpoints[endpoint]}' and '{name}' both use the endpoint '{endpoint}'",
                hint="each registered model needs its own endpoint model_name",
            )
        endpoints[endpoint] = name


def check_applications(spec: Spec) -> None:
    """No two applications share a subdomain (CML refuses the second)."""
    seen: dict[str, str] = {}
    for name, app in spec.applications.items():
        if app.subdomain in seen:
            raise spec.error(
                ("applications", name, "subdomain"),
                f"applications '{seen[app.subdomain]}' and '{name}' both use the subdomain '{app.subdomain}'",
                hint="each application needs its own subdomain",
            )
        seen[app.subdomain] = name


def check_overrides(spec: Spec) -> None:
    """Target overrides only name jobs, applications and models the spec has."""
    for target_name, target in spec.targets.items():
        overrides = target.overrides
        sections = (("jobs", "job", spec.jobs), ("applications", "application", spec.applications),
                    ("models", "model", spec.models))  # fmt: skip
        for section, what, known in sections:
            for name in getattr(overrides, section):
                if name not in known:
                    path = ("targets", target_name, "overrides", section, name)
                    raise _unknown(spec, path, what, name, known, key=True)


def check_references(spec: Spec) -> None:
    """Every cross-section check, in file order of sections."""
    check_overrides(spec)
    check_jobs(spec)
    check_applications(spec)
    check_models(spec)
