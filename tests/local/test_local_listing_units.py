"""core.listing.ListSpec, the one list helper every list route uses (no server)."""

from __future__ import annotations

import json

import pytest

from automation.local.core.listing import ListSpec, read_field
from automation.local.core.problems import ApiProblem
from automation.local.state.records import Job

JOBS = [
    Job(id=f"j{i}", project_id="p", name=name, paused=paused, created_at=float(t))
    for i, (name, paused, t) in enumerate(
        [("train", False, 3), ("train-nightly", True, 1), ("score", False, 2)]
    )
]
SPEC = ListSpec(
    "jobs", ("name", "paused", "creator.username", "kind"), ("name", "created_at"), {"kind": lambda j: "job"}
)


def _page(**params: str) -> dict:
    return SPEC.page(params, JOBS, lambda job: job.id)


def test_filters_sort_and_pages_records() -> None:
    assert _page(search_filter=json.dumps({"name": "train"})) == {"jobs": ["j0", "j1"], "next_page_token": ""}
    assert _page(search_filter=json.dumps({"paused": "true"}))["jobs"] == ["j1"]
    assert _page(sort="-created_at")["jobs"] == ["j0", "j2", "j1"]
    first = _page(sort="name", page_size="2")
    assert first["jobs"] == ["j2", "j0"] and first["next_page_token"]
    assert _page(sort="name", page_size="2", page_token=first["next_page_token"])["jobs"] == ["j1"]


def test_computed_keys_and_the_local_user() -> None:
    assert SPEC.field(JOBS[0], "kind") == "job"
    assert SPEC.field(JOBS[0], "creator.username") == "local-user"
    assert _page(search_filter=json.dumps({"creator.username": "local"}))["jobs"] == ["j0", "j1", "j2"]


def test_a_key_the_list_does_not_support_is_a_400_naming_it() -> None:
    with pytest.raises(ApiProblem) as caught:
        _page(search_filter=json.dumps({"script": "x"}))
    assert caught.value.status == 400 and "'script'" in caught.value.message


def test_read_field_reads_records_and_documents_alike() -> None:
    assert read_field(JOBS[1], "name") == read_field(JOBS[1].to_doc(), "name") == "train-nightly"
    assert (
        read_field({"default_resources": {"cpu_millicores": 500}}, "default_resources.cpu_millicores") == 500
    )
    assert read_field(JOBS[0], "missing") is None
