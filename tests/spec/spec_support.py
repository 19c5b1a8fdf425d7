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

# Version 2: three jobs (a chain and a scheduled one), an application, two models.
MINIMAL_V2 = """\
version: 2
name: demo
targets:
  cml:
    kind: cml
    overrides:
      projects: {prd: {name: demo-prd-cml}}
      jobs: {train: {cpu: 4, environment: {B: "cml"}}}
      applications: {board: {memory: 4}}
      models: {demo-model: {endpoint: {replicas: 3}}}
projects:
  dev:
    name: demo-dev
    source:
      files: ["code/*.py"]
  prd:
    name: demo-prd
jobs:
  setup:
    script: code/setup.py
    timeout: 600
  train:
    script: code/train.py
    after: setup
    environment: {A: "1", B: "2"}
  nightly:
    script: code/train.py
    schedule: {cron: "0 2 * * *", timezone: Europe/Paris}
applications:
  board:
    script: code/app.py
    subdomain: demo-board
models:
  demo-model:
    job: train
    experiment: demo-exp
    endpoint:
      model_name: demo-endpoint
  other-model:
    job: nightly
    experiment: demo-exp
    endpoint:
      model_name: other-endpoint
"""
