"""Shared constants of the spec tests (importable by name; conftest modules are not)."""

MINIMAL = """\
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
  job:
    name: train
    script: code/train.py
model:
  registered_name: demo-model
deployment:
  model_name: demo-endpoint
"""

FILE = "t.yaml"
