"""Settings resolution: flags > environment > profile, CML-session variables, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.errors import EXIT_USAGE, SettingsError
from automation.settings import (
    Settings,
    model_service_url_for,
    resolve_settings,
    workspace_configured,
)

KEY = "settings-secret-key-0123456789abcdef"
OTHER = "another-secret-key-9876543210fedcba"


def write_profile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def profile_env(tmp_path: Path, name: str = "default") -> dict[str, str]:
    path = write_profile(
        tmp_path,
        "profiles:\n"
        "  default: {url: 'https://profile.example.test', api_key: profile-key-0123456789}\n"
        "  staging: {url: 'https://staging.example.test/', api_key: staging-key-0123456789, model_service_url: 'https://ms.example.test/model'}\n",
    )
    env = {"HOME": str(tmp_path), "CMLOPS_CONFIG": str(path)}
    if name != "default":
        env["CMLOPS_PROFILE"] = name
    return env


def test_flags_beat_environment_beat_profile(tmp_path: Path) -> None:
    env = {**profile_env(tmp_path), "CML_URL": "https://env.example.test", "CML_API_KEY": KEY}

    from_flags = resolve_settings(url="https://flag.example.test", api_key=OTHER, environ=env)
    from_env = resolve_settings(environ=env)
    from_profile = resolve_settings(environ=profile_env(tmp_path))

    assert (from_flags.url, from_flags.api_key) == ("https://flag.example.test", OTHER)
    assert from_flags.sources == {"url": "--url", "api_key": "--api-key"}
    assert (from_env.url, from_env.api_key) == ("https://env.example.test", KEY)
    assert from_env.sources == {"url": "CML_URL", "api_key": "CML_API_KEY"}
    assert (from_profile.url, from_profile.api_key) == (
        "https://profile.example.test",
        "profile-key-0123456789",
    )
    assert from_profile.sources["url"].endswith("config.yaml#default")


def test_a_named_profile_is_used(tmp_path: Path) -> None:
    got = resolve_settings(environ=profile_env(tmp_path, "staging"))

    assert got.url == "https://staging.example.test"
    assert got.model_service_url == "https://ms.example.test/model"
    assert got.sources["api_key"].endswith("#staging")


def test_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        resolve_settings(environ=profile_env(tmp_path, "prod"))

    assert "'prod' not found" in str(info.value) and "default, staging" in str(info.value)


def test_broken_profile_file_is_named(tmp_path: Path) -> None:
    path = write_profile(tmp_path, "profiles: [unclosed\n")

    with pytest.raises(SettingsError) as info:
        resolve_settings(environ={"CMLOPS_CONFIG": str(path)})

    assert str(path) in str(info.value) and "YAML" in str(info.value)


def test_missing_profile_file_named_by_cmlops_config(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        resolve_settings(environ={"CMLOPS_CONFIG": str(tmp_path / "nope.yaml")})

    assert "nope.yaml" in str(info.value) and "CMLOPS_CONFIG" in str(info.value)


@pytest.mark.parametrize(
    "api_url",
    [
        "https://ml-1234.example.site/api/v1",
        "https://ml-1234.example.site/api/v1/",
        "https://ml-1234.example.site/api/v2",
    ],
)
def test_inside_cml_the_url_comes_from_cdsw_api_url(tmp_path: Path, api_url: str) -> None:
    env = {"HOME": str(tmp_path), "CDSW_API_URL": api_url, "CDSW_APIV2_KEY": KEY}

    got = resolve_settings(environ=env)

    assert got.url == "https://ml-1234.example.site"
    assert got.sources == {"url": "CDSW_API_URL", "api_key": "CDSW_APIV2_KEY"}
    assert got.model_service_url == "https://modelservice.ml-1234.example.site/model"


def test_inside_cml_cdsw_domain_gives_an_https_url(tmp_path: Path) -> None:
    got = resolve_settings(
        environ={"HOME": str(tmp_path), "CDSW_DOMAIN": "ml-1234.example.site", "CDSW_APIV2_KEY": KEY}
    )

    assert (got.url, got.sources["url"]) == ("https://ml-1234.example.site", "CDSW_DOMAIN")


def test_cml_url_beats_the_cml_session_variables(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "CML_URL": "https://other.example.test",
        "CDSW_API_URL": "https://here/api/v1",
        "CDSW_DOMAIN": "here",
        "CML_API_KEY": KEY,
    }

    assert resolve_settings(environ=env).url == "https://other.example.test"


def test_cml_api_key_beats_cdsw_apiv2_key(tmp_path: Path) -> None:
    base = {"HOME": str(tmp_path), "CML_URL": "https://x.example.test"}

    both = resolve_settings(environ={**base, "CML_API_KEY": KEY, "CDSW_APIV2_KEY": OTHER})
    inside = resolve_settings(environ={**base, "CDSW_APIV2_KEY": OTHER})

    assert (both.api_key, both.sources["api_key"]) == (KEY, "CML_API_KEY")
    assert (inside.api_key, inside.sources["api_key"]) == (OTHER, "CDSW_APIV2_KEY")


def test_missing_url_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        resolve_settings(environ={"HOME": str(tmp_path), "CML_API_KEY": KEY})

    assert info.value.exit_code == EXIT_USAGE
    assert "CML_URL" in str(info.value) and "--url" in str(info.value)


def test_missing_key_names_both_variables(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        resolve_settings(environ={"HOME": str(tmp_path), "CML_URL": "https://x.example.test"})

    assert info.value.exit_code == EXIT_USAGE
    assert "CML_API_KEY" in str(info.value) and "CDSW_APIV2_KEY" in str(info.value)


@pytest.mark.parametrize(
    "url", ["ml-1234.example.site", "localhost:8080", "ftp://x.example.test", "https://"]
)
def test_a_url_without_an_http_scheme_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(SettingsError) as info:
        resolve_settings(environ={"HOME": str(tmp_path), "CML_URL": url, "CML_API_KEY": KEY})

    assert "CML_URL" in str(info.value) and "https://" in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://ws.example.test/",
        " https://ws.example.test ",
        "https://ws.example.test/api/v2",
        "https://ws.example.test/api/v1",
    ],
)
def test_url_is_normalised(tmp_path: Path, url: str) -> None:
    assert (
        resolve_settings(environ={"HOME": str(tmp_path), "CML_URL": url, "CML_API_KEY": KEY}).url
        == "https://ws.example.test"
    )


def test_a_key_with_inner_white_space_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        resolve_settings(
            environ={
                "HOME": str(tmp_path),
                "CML_URL": "https://x.example.test",
                "CML_API_KEY": "abc def ghi jkl",
            }
        )

    assert "CML_API_KEY" in str(info.value) and "abc def" not in str(info.value)


def test_surrounding_white_space_is_trimmed_from_the_key(tmp_path: Path) -> None:
    got = resolve_settings(
        environ={"HOME": str(tmp_path), "CML_URL": "https://x.example.test", "CML_API_KEY": f"  {KEY}\n"}
    )

    assert got.api_key == KEY


def test_repr_str_and_describe_never_show_the_key(tmp_path: Path) -> None:
    got = resolve_settings(
        environ={"HOME": str(tmp_path), "CML_URL": "https://x.example.test", "CML_API_KEY": KEY}
    )

    for text in (repr(got), str(got), f"{got}", str(got.describe())):
        assert KEY not in text
    assert got.describe()["api_key"] == "***"
    assert "***" in repr(got) and "https://x.example.test" in repr(got)


def test_ca_bundle_missing_file_is_named(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "CML_URL": "https://x.example.test", "CML_API_KEY": KEY}

    with pytest.raises(SettingsError) as info:
        resolve_settings(environ=env, ca_bundle=str(tmp_path / "missing.pem"))

    assert "missing.pem" in str(info.value) and "does not exist" in str(info.value)


def test_ca_bundle_from_flag_or_env_and_insecure(tmp_path: Path) -> None:
    pem = tmp_path / "ca.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n")
    env = {"HOME": str(tmp_path), "CML_URL": "https://x.example.test", "CML_API_KEY": KEY}

    assert resolve_settings(environ=env).verify is True
    assert resolve_settings(environ=env, ca_bundle=str(pem)).verify == str(pem)
    assert resolve_settings(environ={**env, "CML_CA_BUNDLE": str(pem)}).verify == str(pem)
    insecure = resolve_settings(environ={**env, "CML_CA_BUNDLE": str(pem)}, insecure=True)
    assert (insecure.verify, insecure.sources["verify"]) == (False, "--insecure")


def test_model_service_url(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "CML_URL": "http://ws.example.test:8080", "CML_API_KEY": KEY}

    assert resolve_settings(environ=env).model_service_url == "http://modelservice.ws.example.test:8080/model"
    assert (
        resolve_settings(environ={**env, "CML_MODEL_SERVICE_URL": "https://m/model"}).model_service_url
        == "https://m/model"
    )
    assert (
        model_service_url_for("https://ml-1.example.site") == "https://modelservice.ml-1.example.site/model"
    )


def test_workspace_configured(tmp_path: Path) -> None:
    assert workspace_configured({"HOME": str(tmp_path)}) is False
    assert workspace_configured({"HOME": str(tmp_path), "CDSW_DOMAIN": "x"}) is True
    assert workspace_configured(profile_env(tmp_path)) is True
    assert (
        workspace_configured({"HOME": str(tmp_path), "CMLOPS_CONFIG": str(tmp_path / "missing.yaml")}) is True
    )


def test_settings_can_be_built_directly() -> None:
    s = Settings(url="http://127.0.0.1:9", api_key=KEY, sources={"url": "local workspace"})

    assert KEY not in repr(s) and s.verify is True


def _engine_env(tmp_path: Path) -> dict[str, str]:
    """What a CML job sees (no CA bundle configured)."""
    return {
        "HOME": str(tmp_path),
        "CDSW_API_URL": "https://ml.example.test/api/v1",
        "CDSW_APIV2_KEY": KEY,
        "CDSW_PROJECT_ID": "a1b2-c3d4-e5f6-g7h8",
        "CDSW_ENGINE_ID": "x1y2z3",
    }


def test_inside_a_cml_engine_the_system_ca_bundle_is_trusted(tmp_path: Path) -> None:
    bundle = tmp_path / "ca-certificates.crt"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")

    s = resolve_settings(environ=_engine_env(tmp_path), engine_ca_bundle=str(bundle))

    assert s.verify == str(bundle) and s.sources["verify"] == "CML engine system CA bundle"


def test_the_engine_bundle_is_used_only_inside_cml_when_present_and_unconfigured(tmp_path: Path) -> None:
    bundle = tmp_path / "ca-certificates.crt"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    own = tmp_path / "own.pem"
    own.write_text("-----BEGIN CERTIFICATE-----\n")
    outside = {"HOME": str(tmp_path), "CML_URL": "https://ml.example.test", "CML_API_KEY": KEY}
    engine = _engine_env(tmp_path)

    assert resolve_settings(environ=outside, engine_ca_bundle=str(bundle)).verify is True
    missing = str(tmp_path / "absent.crt")
    assert resolve_settings(environ=engine, engine_ca_bundle=missing).verify is True
    given = resolve_settings(environ={**engine, "CML_CA_BUNDLE": str(own)}, engine_ca_bundle=str(bundle))
    assert given.verify == str(own)
    assert resolve_settings(environ=engine, insecure=True, engine_ca_bundle=str(bundle)).verify is False
