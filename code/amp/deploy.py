"""AMP step 3: register and deploy the model as the flagship spec does (`cmlops apply` in the project).

Inside CML, ``CDSW_API_URL`` and ``CDSW_APIV2_KEY`` give cmlops the workspace and an API key (the
local workspace sets them for its jobs too), so the spec's ``cml`` target needs no configuration.
The AMP's variables (names, resources) are written into a copy of the spec (``<spec>.amp.yaml``)
before applying it; the spec's DEV project trains with its own experiment.
``CMLOPS_AMP_SPEC`` and ``CMLOPS_AMP_TARGET`` choose another spec or target.
"""

import os
import subprocess
import sys
from pathlib import Path

import yaml

SPEC = Path(os.environ.get("CMLOPS_AMP_SPEC") or "specs/wine-quality.yaml")
TARGET = os.environ.get("CMLOPS_AMP_TARGET") or "cml"
# AMP variable -> the spec fields it sets (and whether the value is a number).
OVERRIDES = {
    "MODEL_NAME": ([("model", "registered_name")], False),
    "ENDPOINT_NAME": ([("deployment", "model_name")], False),
    "DEV_PROJECT": ([("projects", "dev", "name")], False),
    "PRD_PROJECT": ([("projects", "prd", "name")], False),
    "CPU": ([("deployment", "cpu")], True),
    "MEMORY": ([("deployment", "memory")], True),
    "REPLICAS": ([("deployment", "replicas")], True),
}


def number(value: str):
    """Turn "2" into 2 and "1.5" into 1.5; anything else is left for the spec validation to report."""
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def main() -> int:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    for variable, (paths, numeric) in OVERRIDES.items():
        value = os.environ.get(variable, "").strip()
        if not value:
            continue
        for path in paths:
            node = spec
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = number(value) if numeric else value
            print(f"{'.'.join(path)} = {value} (from {variable})")
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
