"""AMP step 3: register and deploy the model as the flagship spec does (`cmlops apply` in the project).

Inside CML, ``CDSW_API_URL`` and ``CDSW_APIV2_KEY`` give cmlops the workspace and an API key (the
local workspace sets them for its jobs too), so the spec's ``cml`` target needs no configuration.
The AMP's variables (names, resources) are written into a copy of the spec (``<spec>.amp.yaml``,
version 2; the first model is the AMP's) before applying it; the spec's DEV project trains with its
own experiment.
``CMLOPS_AMP_SPEC`` and ``CMLOPS_AMP_TARGET`` choose another spec or target.
"""

import os
import subprocess
import sys
from pathlib import Path

import yaml

SPEC = Path(os.environ.get("CMLOPS_AMP_SPEC") or "specs/wine-quality.yaml")
TARGET = os.environ.get("CMLOPS_AMP_TARGET") or "cml"
# AMP variable -> (field of the first model's endpoint it sets, numeric?); project names below.
ENDPOINT = {"ENDPOINT_NAME": ("model_name", False), "CPU": ("cpu", True), "MEMORY": ("memory", True),
            "REPLICAS": ("replicas", True)}  # fmt: skip
PROJECTS = {"DEV_PROJECT": "dev", "PRD_PROJECT": "prd"}


def number(value: str):
    """Turn "2" into 2 and "1.5" into 1.5; anything else is left for the spec validation to report."""
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def rename_model(spec: dict, old: str, new: str) -> None:
    """A registered model's name is its key under models: (and under each target's overrides)."""
    spec["models"] = {new if key == old else key: value for key, value in spec["models"].items()}
    for target in (spec.get("targets") or {}).values():
        models = ((target or {}).get("overrides") or {}).get("models")
        if models and old in models:
            target["overrides"]["models"] = {new if k == old else k: v for k, v in models.items()}


def set_endpoint_name(spec: dict, endpoint: dict, name: str) -> None:
    """The endpoint's model_name, and the applications that look that endpoint up by MODEL_NAME."""
    for app in (spec.get("applications") or {}).values():
        env = app.get("environment") or {}
        if env.get("MODEL_NAME") == endpoint.get("model_name"):
            env["MODEL_NAME"] = name
    endpoint["model_name"] = name


def main() -> int:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    if str(spec.get("version")) != "2":
        print(f"error: {SPEC} is not a version 2 spec (run `cmlops migrate {SPEC} --in-place`)", flush=True)
        return 2
    model_name = next(iter(spec["models"]))  # the AMP deploys the spec's first model
    for variable in ("MODEL_NAME", *ENDPOINT, *PROJECTS):
        value = os.environ.get(variable, "").strip()
        if not value:
            continue
        print(f"{variable} = {value}")
        if variable == "MODEL_NAME":
            rename_model(spec, model_name, value)
            model_name = value
        elif variable in PROJECTS:
            spec["projects"][PROJECTS[variable]]["name"] = value
        else:
            field, numeric = ENDPOINT[variable]
            endpoint = spec["models"][model_name]["endpoint"]
            if field == "model_name":
                set_endpoint_name(spec, endpoint, value)
            else:
                endpoint[field] = number(value) if numeric else value
    source = spec.get("projects", {}).get("dev", {}).get("source") or {}
    if source.get("files"):  # a glob matching nothing here would stop apply: drop it, say so
        kept = [g for g in source["files"] if next(Path(".").glob(g), None) is not None]
        for glob in sorted(set(source["files"]) - set(kept)):
            print(f"note: {glob!r} matches no file in this project; not uploading it")
        source["files"] = kept
    derived = SPEC.with_name(SPEC.stem + ".amp.yaml")
    derived.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    command = [sys.executable, "-m", "automation", "--target", TARGET, "apply", str(derived)]
    print("running:", " ".join(command), flush=True)
    return subprocess.call(command)


if __name__ == "__main__":
    # CML's job kernel fails a run on any SystemExit, even sys.exit(0): exit only on failure.
    code = main()
    if code:
        raise SystemExit(code)
