"""`cmlops migrate` on a commented v1 file: the exact v2 text, every comment where it belongs
(including those under a key the conversion removes), quotes and list layout as written."""

from __future__ import annotations

import pytest
import yaml
from spec_support import FILE, MINIMAL

from automation.errors import SpecError
from automation.spec import parse_spec
from automation.spec.migrate import convert, is_v1, migrate_text

COMMENTED_V1 = """\
# A demo spec.
version: 1
name: demo
targets:
  cml:
    kind: cml
    url: 'https://ml.example.com'
    ca_bundle: null
projects:
  dev:
    name: "demo-dev"
    source:
      files:
        - code/*.py
        - requirements.txt
  prd:
    name: demo-prd
# Training: a job in DEV.
training:
  experiment: demo-exp
  # The install step runs first.
  install:
    name: deps
    script: code/deps.py
  job:
    name: train
    # what it runs
    script: code/train.py  # the training script
    cpu: 2
# The model to register.
model:
  registered_name: demo-model
  # how the run is picked
  select:
    metric: rmse
    order: min
# The PRD endpoint.
deployment:
  model_name: demo-endpoint
  # resources of each replica
  cpu: 1  # vCPUs
"""

COMMENTED_V2 = """\
# A demo spec.
version: 2
name: demo
targets:
  cml:
    kind: cml
    url: 'https://ml.example.com'
    ca_bundle: null
projects:
  dev:
    name: "demo-dev"
    source:
      files:
        - code/*.py
        - requirements.txt
  prd:
    name: demo-prd
# Training: a job in DEV.
jobs:
  # The install step runs first.
  deps:
    script: code/deps.py
    timeout: 900
  train:
    # what it runs
    script: code/train.py  # the training script
    after: deps
    cpu: 2
# The model to register.
models:
  demo-model:
    job: train
    experiment: demo-exp
    # how the run is picked
    select:
      metric: rmse
      order: min
    # The PRD endpoint.
    endpoint:
      model_name: demo-endpoint
      # resources of each replica
      cpu: 1 # vCPUs
"""


# no install step; comments deep inside the model, the last of them closing it
NESTED_V1 = """\
version: 1
name: demo
projects:
  dev:
    name: demo-dev
    source:
      files: ["code/*.py"]
  prd:
    name: demo-prd
training:
  experiment: demo-exp
  # The training job.
  job:
    name: train
    script: code/train.py
model:
  registered_name: demo-model
  select:
    metric: rmse
    # smallest first
    order: min
  gates:
    thresholds:
      - metric: r2
        # at least
        min: 0.2
      - metric: rmse
        max: 0.9
# The endpoint.
deployment:
  model_name: demo-endpoint
"""

NESTED_V2 = """\
version: 2
name: demo
projects:
  dev:
    name: demo-dev
    source:
      files: ["code/*.py"]
  prd:
    name: demo-prd
jobs:
  # The training job.
  train:
    script: code/train.py
models:
  demo-model:
    job: train
    experiment: demo-exp
    select:
      metric: rmse
      # smallest first
      order: min
    gates:
      thresholds:
        - metric: r2
          # at least
          min: 0.2
        - metric: rmse
          max: 0.9
    # The endpoint.
    endpoint:
      model_name: demo-endpoint
"""


def test_a_commented_v1_file_migrates_to_exactly_this_text():
    assert migrate_text(COMMENTED_V1, FILE) == COMMENTED_V2
    assert parse_spec(COMMENTED_V1, file=FILE, environ={}) == parse_spec(COMMENTED_V2, file=FILE, environ={})


def test_the_loaders_conversion_puts_v2_keys_where_the_v1_sections_were():
    data = convert(yaml.safe_load(COMMENTED_V1))
    assert list(data) == ["version", "name", "targets", "projects", "jobs", "models"]
    assert list(data["jobs"]["train"]) == ["script", "after", "cpu"]
    assert list(data["models"]["demo-model"]) == ["job", "experiment", "select", "endpoint"]


def test_an_install_name_with_a_reference_cannot_be_migrated():
    text = MINIMAL.replace(
        "training:\n", "training:\n  install:\n    name: ${DEPS}\n    script: code/deps.py\n"
    )
    with pytest.raises(SpecError, match="the name '\\$\\{DEPS\\}' uses a"):
        migrate_text(text, FILE)


@pytest.mark.parametrize(
    ("data", "expected"),
    [({"version": 1}, True), ({"version": " 1 "}, True), ({"version": 2}, False),
     ({"version": True}, False), ({"version": 1.0}, False), ({}, False), ([1], False), ("version: 1", False)],
)  # fmt: skip
def test_is_v1_answers_true_or_false(data, expected):
    assert is_v1(data) is expected


def test_comments_deep_in_the_model_move_with_it_and_the_first_jobs_comment_stays_above_it():
    assert migrate_text(NESTED_V1, FILE) == NESTED_V2
    assert parse_spec(NESTED_V1, file=FILE, environ={}) == parse_spec(NESTED_V2, file=FILE, environ={})


def _with_note(line_length: int) -> str:
    """MINIMAL with an ignored ``x-note`` whose line is ``line_length`` characters long."""
    prefix = "x-note: "
    return MINIMAL + prefix + ("ab " * 2000)[: line_length - len(prefix) - 1] + "c\n"


@pytest.mark.parametrize(("length", "lines"), [(4096, 1), (4097, 2)])
def test_lines_are_folded_only_past_4096_characters(length, lines):
    v1 = _with_note(length)
    migrated = migrate_text(v1, FILE)
    written = migrated[migrated.index("x-note: ") :].splitlines()
    assert len(written) == lines and max(len(line) for line in written) <= 4096
    assert yaml.safe_load(migrated)["x-note"] == yaml.safe_load(v1)["x-note"]  # folded, read the same


def test_a_comment_under_the_install_steps_name_stays_above_what_followed_it():
    v1 = MINIMAL.replace(
        "training:\n",
        "training:\n  install:\n    name: deps\n    # the requirements\n    script: code/deps.py\n",
    )
    lines = migrate_text(v1, FILE).splitlines()
    at = lines.index("  deps:")
    assert lines[at + 1 : at + 3] == ["    # the requirements", "    script: code/deps.py"]


def test_positions_of_a_v1_models_own_fields_follow_it_into_models():
    v1 = MINIMAL.replace(
        "  registered_name: demo-model\n", "  registered_name: demo-model\n  artifact_path: wine\n"
    )
    spec = parse_spec(v1, file=FILE, environ={})
    lines = v1.splitlines()
    assert lines[spec.locate(("models", "demo-model", "artifact_path"))[0] - 1] == "  artifact_path: wine"


def test_a_comment_under_a_name_written_between_other_keys_stays_above_the_next_one():
    v1 = MINIMAL.replace(
        "    name: train\n    script: code/train.py\n",
        "    script: code/train.py\n    name: train\n    # two of them\n    cpu: 2\n",
    )
    lines = migrate_text(v1, FILE).splitlines()
    at = lines.index("  train:")
    assert lines[at + 1 : at + 4] == ["    script: code/train.py", "    # two of them", "    cpu: 2"]


# the sections in another order, a flow collection before a comment, a comment ending the file
REORDERED_V1 = """\
version: 1
name: demo
projects:
  dev:
    name: demo-dev
    source:
      files: ["code/*.py"]
  prd:
    name: demo-prd
# Training.
training:
  experiment: demo-exp
  job:
    name: train
    script: code/train.py
    environment: {A: "1"}
# The endpoint, written first.
deployment:
  model_name: demo-endpoint
  cpu: 1
# Timeouts sit between.
timeouts:
  job_run: 600
# The model.
model:
  registered_name: demo-model
  select:
    metric: rmse
    order: min
# The end of the file.
"""

REORDERED_V2 = """\
version: 2
name: demo
projects:
  dev:
    name: demo-dev
    source:
      files: ["code/*.py"]
  prd:
    name: demo-prd
# Training.
jobs:
  train:
    script: code/train.py
    environment: {A: "1"}
# Timeouts sit between.
timeouts:
  job_run: 600
# The model.
models:
  demo-model:
    job: train
    experiment: demo-exp
    select:
      metric: rmse
      order: min
    # The endpoint, written first.
    endpoint:
      model_name: demo-endpoint
      cpu: 1
# The end of the file.
"""


def test_each_sections_comment_follows_its_section_whatever_the_order_the_file_gives_them():
    # ruamel keeps the comment above a top-level key at the end of the value before it (or, after
    # a flow collection, on the key): a deployment written before the model must not leave its
    # comment above `models`, nor the model's at the end of the endpoint.
    assert migrate_text(REORDERED_V1, FILE) == REORDERED_V2
    assert parse_spec(REORDERED_V1, file=FILE, environ={}) == parse_spec(REORDERED_V2, file=FILE, environ={})


@pytest.mark.parametrize(
    ("v1_old", "v1_new", "v2_old", "v2_new"),
    [
        (
            "  select:\n    metric: rmse\n    order: min\n",
            "  select: {metric: rmse, order: min}\n",
            "    select:\n      metric: rmse\n      order: min\n",
            "    select: {metric: rmse, order: min}\n",
        ),
        (
            "  cpu: 1\n",
            "  cpu: 1\n  environment: {B: '2'}\n",
            "      cpu: 1\n",
            "      cpu: 1\n      environment: {B: '2'}\n",
        ),
    ],
    ids=["the-model-ends-in-a-flow-mapping", "the-deployment-ends-in-a-flow-mapping"],
)
def test_a_comment_after_a_flow_collection_stays_where_it_belongs(v1_old, v1_new, v2_old, v2_new):
    # after a flow collection ruamel keeps the comment that follows elsewhere (on the next key, or
    # at the document's end): it still lands above its section, or closes the file
    v1 = REORDERED_V1.replace(v1_old, v1_new)
    assert v1 != REORDERED_V1
    assert migrate_text(v1, FILE) == REORDERED_V2.replace(v2_old, v2_new)
    assert parse_spec(v1, file=FILE, environ={}) == parse_spec(migrate_text(v1, FILE), file=FILE, environ={})


def test_a_comment_after_a_block_list_moves_with_the_section_it_introduces():
    # the comment above `deployment` sits on the last item of the block list before it (projects'
    # files here): it must still land above the model's endpoint, not stay under projects
    v1 = """\
version: 1
name: demo
training:
  experiment: demo-exp
  job:
    name: train
    script: code/train.py
projects:
  prd:
    name: demo-prd
  dev:
    name: demo-dev
    source:
      files:
        - code/*.py
# The endpoint.
deployment:
  model_name: demo-endpoint
model:
  registered_name: demo-model
"""
    v2 = """\
version: 2
name: demo
jobs:
  train:
    script: code/train.py
projects:
  prd:
    name: demo-prd
  dev:
    name: demo-dev
    source:
      files:
        - code/*.py
models:
  demo-model:
    job: train
    experiment: demo-exp
    # The endpoint.
    endpoint:
      model_name: demo-endpoint
"""
    assert migrate_text(v1, FILE) == v2
    assert parse_spec(v1, file=FILE, environ={}) == parse_spec(v2, file=FILE, environ={})
