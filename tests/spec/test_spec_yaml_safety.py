"""Hostile YAML: alias bombs, huge files, deep nesting, cycles, unsafe tags. Each is a located SpecError."""

from __future__ import annotations

import pytest
from spec_support import MINIMAL

from automation.errors import SpecError
from automation.spec import load_spec
from automation.spec.yamlload import ABSENT, MAX_BYTES, MAX_NODES, child, parse_yaml


def _bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_without_expanding(spec_error):
    err = spec_error(_bomb())
    assert f"more than {MAX_NODES} values" in err.message
    assert "alias" in err.hint
    assert err.line is not None and err.line <= 9


def test_bomb_hidden_in_an_ignored_section_of_a_valid_spec(spec_error):
    hidden = "".join(f"  {line}\n" for line in _bomb().splitlines())
    err = spec_error(MINIMAL + "x-lol:\n" + hidden)
    assert f"more than {MAX_NODES} values" in err.message


def test_aliases_within_the_bound_are_expanded(parse):
    text = MINIMAL.replace("training:", "x-env: &env {A: '1', B: '2'}\ntraining:") + "  environment: *env\n"
    spec = parse(text)
    assert spec.model_named().endpoint.environment == {"A": "1", "B": "2"}


def test_merge_keys_explicit_wins(parse):
    base = MINIMAL.replace("deployment:\n  model_name: demo-endpoint\n", "")
    text = base.replace("training:", "x-res: &res {cpu: 2, memory: 4, replicas: 3}\ntraining:")
    spec = parse(text + "deployment:\n  <<: *res\n  model_name: e\n  memory: 8\n")
    assert (
        spec.model_named().endpoint.cpu,
        spec.model_named().endpoint.memory,
        spec.model_named().endpoint.replicas,
    ) == (2, 8, 3)


def test_unknown_key_inside_a_merge_is_located_at_its_source(spec_error):
    base = MINIMAL.replace("deployment:\n  model_name: demo-endpoint\n", "")
    err = spec_error(base + "deployment:\n  <<: [{cpu: 2}, {cpuu: 3}]\n  model_name: e\n")
    assert (err.line, err.column, err.field) == (18, 19, "deployment.cpuu")


def test_huge_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("version: 1\n" + "# padding\n" * (MAX_BYTES // 10 + 1))
    with pytest.raises(SpecError) as caught:
        load_spec(path, environ={})
    err = caught.value
    assert (err.file, err.line, err.column) == (str(path), 1, 1)
    assert "larger than 1024 KiB" in err.message


def test_huge_text_is_refused(spec_error):
    err = spec_error("a: b\n" * (MAX_BYTES // 5 + 1))
    assert "larger than" in err.message


def test_deep_nesting_is_refused(spec_error):
    assert "nested deeper" in spec_error("a: " + "[" * 70 + "]" * 70 + "\n").message


def test_very_deep_nesting_does_not_overflow_the_stack(spec_error):
    err = spec_error("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nested deeper" in err.message and (err.line, err.column) == (1, 1)


@pytest.mark.parametrize("text", ["a: &x [1, *x]\n", "a: &x\n  b: *x\n"])
def test_recursive_alias_is_refused(spec_error, text):
    err = spec_error(text)
    assert "recursive alias" in err.message
    assert (err.line, err.column) == (1, 4)


@pytest.mark.parametrize(
    "tag", ["!!python/object/apply:os.system ['id']", "!!binary aGVsbG8=", "!custom x", "!!set {a, b}"]
)
def test_unsafe_or_unknown_tags_are_refused(spec_error, tag):
    err = spec_error(f"version: 1\nname: {tag}\n")
    assert "unsupported YAML tag" in err.message
    assert (err.line, err.column, err.field) == (2, 7, "name")


def test_timestamps_stay_text():
    doc = parse_yaml("a: 2024-01-01\nb: 2024-13-45\n", "t.yaml")
    assert doc.data == {"a": "2024-01-01", "b": "2024-13-45"}


def test_positions_of_keys_and_values():
    doc = parse_yaml("a:\n  b: [1, {c: x}]\n", "t.yaml")
    assert doc.keys[("a",)] == (1, 1)
    assert doc.keys[("a", "b")] == (2, 3)
    assert doc.values[("a", "b")] == (2, 6)
    assert doc.values[("a", "b", 1)] == (2, 10)
    assert doc.keys[("a", "b", 1, "c")] == (2, 11)
    assert doc.values[("a", "b", 1, "c")] == (2, 14)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"version: 1\nname: caf\xe9\n")
    with pytest.raises(SpecError) as caught:
        load_spec(path, environ={})
    assert (caught.value.line, caught.value.column) == (2, 10)
    assert "UTF-8" in caught.value.message


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "nope.yaml", environ={})
    with pytest.raises(SpecError, match="not a regular file"):
        load_spec(tmp_path, environ={})


def test_utf8_bom_is_accepted(tmp_path, minimal):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + minimal.encode())
    assert load_spec(path, environ={}).name == "demo"


def _values(n: int) -> str:
    """A document of exactly ``n`` values: the top mapping, one list, n - 2 scalars."""
    return "a: [" + ", ".join(["x"] * (n - 2)) + "]\n"


def test_a_document_of_20000_values_is_read_and_one_more_is_refused():
    assert len(parse_yaml(_values(20_000), "t.yaml").data["a"]) == 19_998
    with pytest.raises(SpecError, match="more than 20000 values"):
        parse_yaml(_values(20_001), "t.yaml")


def _nested(depth: int) -> str:
    """A scalar at ``depth`` (the top mapping's values are at depth 1)."""
    return "a: " + "[" * (depth - 1) + "x" + "]" * (depth - 1) + "\n"


def test_values_nested_64_deep_are_read_and_65_are_refused():
    data = parse_yaml(_nested(64), "t.yaml").data["a"]
    for _ in range(63):
        (data,) = data
    assert data == "x"
    with pytest.raises(SpecError, match="nested deeper than 64 levels"):
        parse_yaml(_nested(65), "t.yaml")


@pytest.mark.parametrize(("key", "kind"), [("{a: 1}", "a mapping"), ("[a]", "a list")])
def test_a_mapping_key_that_is_not_text_is_named_for_what_it_is(key, kind):
    with pytest.raises(SpecError) as caught:
        parse_yaml(f"? {key}\n: v\n", "t.yaml")
    assert str(caught.value).endswith(f"a mapping key must be text, not {kind}")


@pytest.mark.parametrize(("text", "kind"), [("just words\n", "a scalar"), ("- a\n- b\n", "a list")])
def test_a_top_level_that_is_not_a_mapping_is_named_for_what_it_is(text, kind):
    with pytest.raises(SpecError) as caught:
        parse_yaml(text, "t.yaml")
    assert f"the top level of a spec must be a mapping (key: value lines), not {kind}" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "tag"), [("--- !foo\na: 1\n", "!foo"), ("!!set {a, b}\n", "tag:yaml.org,2002:set")]
)
def test_a_tagged_top_level_mapping_is_refused_naming_its_tag(text, tag):
    with pytest.raises(SpecError) as caught:
        parse_yaml(text, "t.yaml")
    assert str(caught.value).endswith(f"unsupported YAML tag {tag!r}") and caught.value.line == 1


def _merged(n: int) -> str:
    """A document of ``n`` counted values with one merge key: the top mapping, the merged mapping
    and its value, the merge key itself, one list, and n - 5 scalars in it."""
    return "<<: {k: v}\na: [" + ", ".join(["x"] * (n - 5)) + "]\n"


def test_a_merge_key_counts_as_one_value_towards_the_limit():
    assert parse_yaml(_merged(20_000), "t.yaml").data["k"] == "v"
    with pytest.raises(SpecError, match="more than 20000 values"):
        parse_yaml(_merged(20_001), "t.yaml")


def test_child_is_absent_outside_a_list_and_for_a_missing_key():
    assert child([1, 2], 1) == 2 and child({"a": None}, "a") is None
    for node, part in (([1, 2], 2), ([1, 2], -1), ({"a": 1}, "b"), ({"a": 1}, 0), ([1], "0"), ("ab", 0)):
        assert child(node, part) is ABSENT, (node, part)


def test_text_at_keeps_scalars_as_written_but_null_stays_none():
    data = parse_yaml("a: yes\nb: 010\nc: ~\nd: [no]\ne: 1.50\n", "t.yaml", text_at=lambda _: True).data
    assert data == {"a": "yes", "b": "010", "c": None, "d": ["no"], "e": "1.50"}
    plain = parse_yaml("a: yes\nb: 010\n", "t.yaml").data
    assert plain == {"a": True, "b": 8}


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("a: b: c\n", "invalid YAML: mapping values are not allowed here"),
        (
            "a: [1, 2\n",
            "invalid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence)",
        ),
    ],
    ids=["problem only", "problem and context"],
)
def test_invalid_yaml_says_what_the_parser_found(text, said):
    with pytest.raises(SpecError) as caught:
        parse_yaml(text, "t.yaml")
    assert str(caught.value).endswith(said)


def test_an_unwritten_path_is_placed_at_its_nearest_written_ancestor():
    doc = parse_yaml("a:\n  b:\n    c: 1\n", "t.yaml")
    assert doc.position(("a", "b", "x", "y")) == (2, 3) == doc.position(("a", "b", "x"), key=True)
    assert doc.position(("a", "b", "c")) == (3, 8) and doc.position(("a", "b", "c"), key=True) == (3, 5)
    assert doc.position(("zz",)) == (1, 1)


@pytest.mark.parametrize(("length", "shown"), [(40, "x" * 40), (41, "x" * 37 + "...")])
def test_a_value_that_cannot_be_read_is_shown_whole_up_to_40_characters(length, shown):
    with pytest.raises(SpecError) as caught:
        parse_yaml(f"a: !!float {'x' * length}\n", "t.yaml")
    assert f"cannot read the value {shown!r} (too large or malformed)" in str(caught.value)


def test_a_spec_over_the_size_limit_is_refused_at_its_start():
    with pytest.raises(SpecError) as caught:
        parse_yaml("a: " + "x" * MAX_BYTES + "\n", "t.yaml")
    assert "larger than 1024 KiB" in str(caught.value) and (caught.value.line, caught.value.column) == (1, 1)
