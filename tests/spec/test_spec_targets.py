"""A CML target's URL: what is refused (credentials, query, fragment, each alone) and how an accepted
URL is kept."""

from __future__ import annotations

import pytest
from spec_support import MINIMAL_V2

CML = "    kind: cml\n"


def _url(url: str) -> str:
    assert CML in MINIMAL_V2
    return MINIMAL_V2.replace(CML, f"{CML}    url: {url}\n", 1)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://user@ml.example.com", "contains credentials"),
        ("https://:secret@ml.example.com", "contains credentials"),
        ("https://user:secret@ml.example.com", "contains credentials"),
        ("https://ml.example.com/?a=1", "query or fragment"),
        ("https://ml.example.com/#top", "query or fragment"),
        ("https://ml.example.com:0", "must look like https://"),
        ("ftp://ml.example.com", "must look like https://"),
        ("http://ml.example.com", "must use https"),
    ],
    ids=["user", "password", "both", "query", "fragment", "port 0", "ftp", "http off loopback"],
)
def test_a_url_with_any_one_thing_cml_does_not_take_is_refused(spec_error, url, message):
    err = spec_error(_url(url))
    assert err.field == "targets.cml.url" and message in err.message, str(err)


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://ml.example.com/", "https://ml.example.com"),
        ("https://ml.example.com:8443", "https://ml.example.com:8443"),
        ("https://ml.example.com:1", "https://ml.example.com:1"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_an_accepted_url_is_kept_without_its_trailing_slash(parse, url, kept):
    assert parse(_url(url)).targets["cml"].url == kept


@pytest.mark.parametrize(
    "path", ["../certs/ca.pem", "certs/../../ca.pem", "certs\\\\..\\\\ca.pem", "ca\\x00.pem"]
)
def test_a_ca_bundle_path_with_dot_dot_or_nul_is_refused(spec_error, path):
    err = spec_error(MINIMAL_V2.replace(CML, f'{CML}    ca_bundle: "{path}"\n', 1))
    assert err.field == "targets.cml.ca_bundle" and "must not contain '..' or NUL" in err.message, str(err)


def test_a_ca_bundle_path_inside_the_repo_is_kept(parse):
    assert parse(MINIMAL_V2.replace(CML, f"{CML}    ca_bundle: certs/ca.pem\n", 1)).targets[
        "cml"
    ].ca_bundle == ("certs/ca.pem")


def test_a_target_without_a_url_says_where_to_write_it(parse):
    from automation.errors import SpecError

    target = parse(MINIMAL_V2).targets["cml"]
    with pytest.raises(SpecError) as caught:
        target.require_url()
    err = caught.value
    assert "target 'cml' has no url" in str(err) and err.field == "targets.cml.url"
    assert "write url: https://<workspace domain> under targets.cml" in err.hint


def test_a_url_from_an_empty_variable_names_the_variable_to_export(parse):
    from automation.errors import SpecError

    text = _url("${CML_URL:-}")
    target = parse(text).targets["cml"]
    with pytest.raises(SpecError) as caught:
        target.require_url()
    err = caught.value
    assert err.line == text.splitlines().index("    url: ${CML_URL:-}") + 1
    assert err.hint == "the url comes from CML_URL: export CML_URL=https://<workspace domain>"
