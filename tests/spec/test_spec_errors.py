"""Every way a spec can be wrong gives one SpecError at the exact file:line:column, naming the field."""

from __future__ import annotations

import pytest
from conftest import MINIMAL

# (id, text, line, column, field, substring of the message, substring of the hint or None)
CASES = [
    (
        "unknown key with suggestion",
        MINIMAL + "  cpus: 2\n",
        19, 3, "deployment.cpus", "unknown key 'cpus'", "did you mean 'cpu'?",
    ),
    (
        "unknown key, case only",
        MINIMAL + "  Replicas: 2\n",
        19, 3, "deployment.Replicas", "unknown key 'Replicas'", "did you mean 'replicas'?",
    ),
    (
        "misspelt section wins over the missing one it causes",
        MINIMAL.replace("projects:", "projets:"),
        3, 1, "projets", "unknown key 'projets'", "did you mean 'projects'?",
    ),
    (
        "wrong type: text for a number",
        MINIMAL + "  cpu: lots\n",
        19, 8, "deployment.cpu", "expected a number, got text 'lots'", None,
    ),
    (
        "wrong type: float for a whole number",
        MINIMAL + "  gpus: 1.5\n",
        19, 9, "deployment.gpus", "expected a whole number, got 1.5", None,
    ),
    (
        "wrong type: list for text",
        MINIMAL + "  description: [a]\n",
        19, 3, "deployment.description", "expected text, got a list", None,
    ),
    (
        "wrong type: text for a boolean",
        MINIMAL + "  auth: maybe\n",
        19, 9, "deployment.auth", "expected true or false", None,
    ),
    (
        "missing required field",
        MINIMAL.replace("    script: code/train.py\n", ""),
        12, 3, "training.job.script", "missing required key 'script'", "add 'script:' under 'training.job'",
    ),
    (
        "missing top-level section",
        MINIMAL.replace("deployment:\n  model_name: demo-endpoint\n", ""),
        1, 1, "deployment", "missing required key 'deployment'", "at the top level",
    ),
    (
        "missing variable",
        MINIMAL.replace("model_name: demo-endpoint", "model_name: ${ENDPOINT}"),
        18, 15, "deployment.model_name", "variable ENDPOINT is not set", "export ENDPOINT=",
    ),
    (
        "missing secret variable",
        MINIMAL + "  environment:\n    TOKEN: ${env:MY_TOKEN}\n",
        20, 12, "deployment.environment.TOKEN", "secret variable MY_TOKEN is not set", "export MY_TOKEN=",
    ),
    (
        "bad enum",
        MINIMAL.replace("model:\n", "model:\n  select: {strategy: lastest}\n"),
        16, 22, "model.select.strategy", "expected one of: latest, best", "did you mean 'latest'?",
    ),
    (
        "bad target kind",
        MINIMAL + "targets:\n  prod:\n    kind: cmll\n",
        21, 11, "targets.prod.kind", "unknown kind 'cmll'", "did you mean 'cml'?",
    ),
    (
        "target without kind",
        MINIMAL + "targets:\n  prod:\n    url: https://x.example.com\n",
        20, 3, "targets.prod.kind", "missing key 'kind'", None,
    ),
    (
        "escaping path with ..",
        MINIMAL.replace("code/train.py", "../x.py"),
        14, 13, "training.job.script", "contains '..'", None,
    ),
    (
        "absolute path",
        MINIMAL.replace("code/train.py", "/etc/passwd"),
        14, 13, "training.job.script", "is absolute", None,
    ),
    (
        "escaping glob",
        MINIMAL.replace('["code/*.py"]', '["code/*.py", "../../**/*.pem"]'),
        7, 28, "projects.dev.source.files[1]", "contains '..'", None,
    ),
    (
        "home-relative artifact path",
        MINIMAL.replace("model:\n", "model:\n  artifact_path: ~/model\n"),
        16, 18, "model.artifact_path", "starts with '~'", None,
    ),
    (
        "version 2",
        MINIMAL.replace("version: 1", "version: 2"),
        1, 10, "version", "unsupported spec version", None,
    ),
    (
        "version true is not 1",
        MINIMAL.replace("version: 1", "version: true"),
        1, 10, "version", "version must be the number 1", None,
    ),
    (
        "bad spec name",
        MINIMAL.replace("name: demo\n", "name: Demo_X\n"),
        2, 7, "name", "lowercase letters", None,
    ),
    (
        "name too long",
        MINIMAL.replace("name: demo-prd", "name: " + "x" * 65),
        9, 11, "projects.prd.name", "at most 64", None,
    ),
    (
        "same name for dev and prd",
        MINIMAL.replace("name: demo-prd", "name: demo-dev"),
        3, 1, "projects", "different names", None,
    ),
    (
        "replicas out of range",
        MINIMAL + "  replicas: 10\n",
        19, 13, "deployment.replicas", "less than or equal to 9", None,
    ),
    (
        "memory not positive",
        MINIMAL + "  memory: 0\n",
        19, 11, "deployment.memory", "greater than 0", None,
    ),
    (
        "infinite cpu",
        MINIMAL + "  cpu: .inf\n",
        19, 8, "deployment.cpu", "finite", None,
    ),
    (
        "environment key",
        MINIMAL + "  environment:\n    1BAD: x\n",
        20, 5, "deployment.environment.1BAD", "environment variable names", None,
    ),
    (
        "environment boolean",
        MINIMAL + "  environment:\n    FLAG: yes\n",
        20, 11, "deployment.environment.FLAG", "quote it", None,
    ),
    (
        "runtime identifier with kernel",
        MINIMAL + "runtime: {identifier: img:1, kernel: Python 3.11}\n",
        19, 1, "runtime", "either identifier or kernel", None,
    ),
    (
        "both git_url and files",
        MINIMAL.replace('files: ["code/*.py"]', 'files: ["code/*.py"]\n      git_url: https://github.com/a/b'),
        6, 5, "projects.dev.source", "exactly one of git_url or files", None,
    ),
    (
        "git_ref without git_url",
        MINIMAL.replace('files: ["code/*.py"]', 'files: ["code/*.py"]\n      git_ref: main'),
        6, 5, "projects.dev.source", "git_ref needs git_url", None,
    ),
    (
        "git url with a token",
        MINIMAL.replace('files: ["code/*.py"]', "git_url: https://u:tok@github.com/a/b"),
        7, 16, "projects.dev.source.git_url", "password or token", None,
    ),
    (
        "dev without source",
        MINIMAL.replace('    source:\n      files: ["code/*.py"]\n', ""),
        3, 1, "projects", "projects.dev needs a source", None,
    ),
    (
        "best without metric",
        MINIMAL.replace("model:\n", "model:\n  select: {strategy: best}\n"),
        16, 3, "model.select", "needs a metric", None,
    ),
    (
        "threshold without bounds",
        MINIMAL.replace("model:\n", "model:\n  gates: {thresholds: [{metric: r2}]}\n"),
        16, 24, "model.gates.thresholds[0]", "needs min, max or both", None,
    ),
    (
        "smoke input not an object",
        MINIMAL + "  smoke: {input: [1, 2]}\n",
        19, 11, "deployment.smoke.input", "expected a mapping", None,
    ),
    (
        "smoke expect min above max",
        MINIMAL + "  smoke:\n    input: {a: 1}\n    expect: {min: 5, max: 3}\n",
        21, 5, "deployment.smoke.expect", "min is greater than max", None,
    ),
    (
        "url without scheme",
        MINIMAL + "targets:\n  prod:\n    kind: cml\n    url: ml.example.com\n",
        22, 10, "targets.prod.url", "has no scheme", None,
    ),
    (
        "plain http to a remote host",
        MINIMAL + "targets:\n  prod:\n    kind: cml\n    url: http://ml.example.com\n",
        22, 10, "targets.prod.url", "must use https", None,
    ),
    (
        "api key written in the spec",
        MINIMAL + "targets:\n  prod:\n    kind: cml\n    api_key: abc123\n",
        22, 14, "targets.prod.api_key", "never written in a spec", "${env:CML_API_KEY}",
    ),
    (
        "target named local of kind cml",
        MINIMAL + "targets:\n  local:\n    kind: cml\n",
        19, 1, "targets", "must be of kind local", None,
    ),
    (
        "duplicate key",
        MINIMAL + "name: again\n",
        19, 1, "name", "duplicate key 'name' (first written at line 2)", None,
    ),
    (
        "non-mapping top level",
        "- a\n- b\n",
        1, 1, None, "top level of a spec must be a mapping", "version: 1",
    ),
    (
        "scalar top level",
        "just text\n",
        1, 1, None, "top level of a spec must be a mapping", None,
    ),
    (
        "empty spec",
        "# nothing here\n",
        1, 1, None, "the spec is empty", None,
    ),
    (
        "invalid YAML",
        MINIMAL + "  cpu: [1\n",
        20, 1, None, "invalid YAML", None,
    ),
    (
        "tab indentation",
        MINIMAL + "\tcpu: 1\n",
        19, 1, None, "invalid YAML", None,
    ),
    (
        "control character",
        MINIMAL + "  description: a\x07b\n",
        19, 17, None, "#x0007 is not allowed", None,
    ),
    (
        "python object tag",
        MINIMAL + "  description: !!python/object/apply:os.system [ls]\n",
        19, 16, "deployment.description", "unsupported YAML tag", None,
    ),
    (
        "non-text key",
        MINIMAL + "  environment: {1: x}\n",
        19, 17, "deployment.environment", "read as int, not text", "quote it",
    ),
    (
        "number too large to read",
        MINIMAL + "  gpus: 1" + "0" * 5000 + "\n",
        19, 9, "deployment.gpus", "too large", None,
    ),
    (
        "two documents",
        MINIMAL + "---\nversion: 1\n",
        19, 1, None, "expected a single document", None,
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "field", "message", "hint"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_error_is_located(spec_error, text, line, column, field, message, hint):
    err = spec_error(text)
    assert (err.line, err.column) == (line, column), str(err)
    assert err.field == field, str(err)
    assert message in err.message
    assert str(err).startswith(f"t.yaml:{line}:{column}: ")
    if hint is not None:
        assert err.hint is not None and hint in err.hint
    assert err.exit_code == 2
    assert err.to_dict()["line"] == line


def test_more_problems_are_counted_in_the_hint(spec_error):
    err = spec_error(MINIMAL + "  cpu: 0\n  memory: 0\n  gpus: -1\n")
    assert (err.line, err.field) == (19, "deployment.cpu")
    assert "2 more problems after this one" in err.hint


def test_error_from_a_secret_never_shows_it(spec_error):
    err = spec_error(MINIMAL + "  cpu: ${env:CPU}\n", environ={"CPU": "topsecret-value"})
    assert err.field == "deployment.cpu"
    assert "a secret value" in err.message
    assert "topsecret" not in str(err) and "topsecret" not in repr(err.to_dict())


def test_secret_in_literal_field_is_not_echoed(spec_error):
    err = spec_error(MINIMAL.replace("model:\n", "model:\n  select: {strategy: '${env:S}'}\n"), environ={"S": "hunter2"})
    assert err.field == "model.select.strategy"
    assert "hunter2" not in str(err)
