"""Applied ML Prototypes (AMPs): CML's ``.project-metadata.yaml``, read, checked, planned, launched.

Public entry points::

    report = validate_amp("path/or/folder")          # all problems (located SpecErrors) + warnings
    loaded, warnings = load_valid_amp(path)          # or raise the first problem
    plan = build_plan(loaded, project_name=..., environment=..., observed=observe(client, loaded, name))
    result = Launcher(client, loaded, LaunchOptions(project_name=..., environment=...)).run()
    export_amp(spec).text / import_amp(loaded)       # cmlops spec <-> AMP file (YAML text)
    upload_set(amp_file, amp)                        # the files a launch uploads (as CML would have)

Layering: this package talks to a workspace only through ``automation.api`` and reads specs through
``automation.spec``.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "export_amp": "convert",
    "import_amp": "convert",
    "LaunchOptions": "launch",
    "LaunchResult": "launch",
    "Launcher": "launch",
    "Timeouts": "launch",
    "LoadedAmp": "loader",
    "load_amp": "loader",
    "read_amp": "loader",
    "AmpFile": "model",
    "LaunchPlan": "plan",
    "Step": "plan",
    "build_plan": "plan",
    "observe": "plan",
    "resolve_environment": "inputs",
    "choose_environment": "inputs",
    "upload_set": "files",
    "map_amp": "mapping",
    "AmpReport": "validate",
    "load_valid_amp": "validate",
    "validate_amp": "validate",
}


def __getattr__(name: str) -> Any:
    """Lazy re-exports: `cmlops amp validate` must not import the API client (requests) it never uses."""
    if name in _EXPORTS:
        return getattr(import_module(f"automation.amp.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'automation.amp' has no attribute {name!r}")


__all__ = [
    "AmpFile",
    "AmpReport",
    "LaunchOptions",
    "LaunchPlan",
    "LaunchResult",
    "Launcher",
    "LoadedAmp",
    "Step",
    "Timeouts",
    "build_plan",
    "choose_environment",
    "export_amp",
    "import_amp",
    "load_amp",
    "load_valid_amp",
    "map_amp",
    "observe",
    "read_amp",
    "resolve_environment",
    "upload_set",
    "validate_amp",
]
