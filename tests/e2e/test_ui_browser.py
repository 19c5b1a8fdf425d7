"""The local workspace's web UI in a real headless Chromium, over the session's bootstrapped workspace.

Checks what a tutorial reader looks at: the DEV and PRD projects with the job run and its state,
MLflow's run page with the rmse metric, the registry with version 1, the endpoint test box
predicting a wine quality between 3 and 9, and that without the key every page is refused.
Screenshots of each page go to tests/artifacts/ui/ (gitignored).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cli_support import run_cli

from automation.local import control
from e2e.browser_support import chromium, missing_browser, screenshot, wait_until
from e2e.local_bootstrap import Bootstrapped

pytestmark = pytest.mark.e2e


def _text(driver: Any, css: str = "body") -> str:
    return str(driver.find_element("css selector", css).text)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = missing_browser()
    if missing:  # under CI=true the suite stops at start instead (tests/conftest.py)
        pytest.skip("the browser tests need: " + "; ".join(missing))
    with chromium() as driver:
        yield driver


def _login_link(boot: Bootstrapped) -> dict[str, Any]:
    return control.ui_login(boot.state_dir)


@pytest.fixture(scope="module")
def logged_in(boot: Bootstrapped, browser: Any) -> dict[str, Any]:
    info = _login_link(boot)
    browser.get(info["login_url"])
    wait_until(browser, lambda d: d.find_elements("id", "projects"), what="the workspace page after login")
    assert browser.current_url == info["url"]
    return info


def test_cmlops_local_ui_prints_a_link_that_works_once(
    boot: Bootstrapped, capsys: pytest.CaptureFixture[str]
):
    code, out, _ = run_cli(
        capsys, "--state-dir", str(boot.state_dir), "-o", "json", "local", "ui", "--no-browser"
    )
    assert code == 0
    info = json.loads(out)
    assert info["url"] == control.status(boot.state_dir)["ui_url"]
    assert info["opened_browser"] is False
    assert boot.workspace.api_key not in info["login_url"]
    session = requests.Session()
    session.trust_env = False
    first = session.get(info["login_url"], timeout=30)
    assert first.status_code == 200
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and boot.workspace.api_key not in cookie
    assert session.get(info["url"], timeout=30).status_code == 200
    again = requests.get(info["login_url"], timeout=30)
    assert again.status_code == 401 and "used already or has expired" in again.text


def test_the_workspace_page_lists_projects_jobs_runs_and_models(boot: Bootstrapped, browser: Any, logged_in):
    page = _text(browser, "#panels")
    dev, prd = boot.spec.projects.dev.name, boot.spec.projects.prd.name
    projects = {
        e.get_attribute("data-name") for e in browser.find_elements("css selector", "article.project")
    }
    assert {dev, prd} <= projects
    run_id = boot.result.summary["job_run_id"]
    row = _text(browser, f"#run-{run_id}")
    assert "ENGINE_SUCCEEDED" in row and re.search(r"\d+(\.\d)? s", row), row
    model = browser.find_element(
        "css selector", f'article.model[data-name="{boot.spec.model_named(None).endpoint.model_name}"]'
    )
    assert "deployed" in model.text and "built" in model.text and "serving" in model.text
    assert f"{boot.spec.model_named(None).registered_name} v1" in page
    timeline = browser.find_element("css selector", "article.timeline")
    metrics = {c.get_attribute("data-metric") for c in timeline.find_elements("css selector", "svg.chart")}
    assert "rmse" in metrics
    screenshot(browser, "workspace")


def test_a_run_links_to_its_log_and_to_mlflow_run_page_with_rmse(boot: Bootstrapped, browser: Any, logged_in):
    run_id = boot.result.summary["job_run_id"]
    browser.get(logged_in["url"])
    browser.find_element("css selector", f"#run-{run_id} a[href^='/ui/logs/']").click()
    log = wait_until(browser, lambda d: d.find_elements("id", "log-text"), what="the job run's log")[0]
    assert log.text.strip(), "the log page is empty"
    screenshot(browser, "job-run-log")
    browser.get(logged_in["url"] + "logs/no-such-run")
    assert "No log no-such-run in this workspace" in _text(browser)
    browser.get(logged_in["url"])
    link = browser.find_element("css selector", f"#run-{run_id} a.mlflow-run")
    assert boot.result.summary["mlflow_run_id"] in link.get_attribute("href")
    link.click()
    wait_until(browser, lambda d: "rmse" in _text(d), what="MLflow's run page with the rmse metric")
    body = _text(browser)
    rmse = boot.result.summary["metrics"]["rmse"]
    assert boot.result.summary["mlflow_run_id"] in body
    assert f"{rmse:.6f}"[:6] in body, f"rmse {rmse} not on MLflow's run page"
    screenshot(browser, "mlflow-run")


def test_the_registry_shows_version_1_and_links_it_to_its_deployment(
    boot: Bootstrapped, browser: Any, logged_in
):
    name = boot.spec.model_named(None).registered_name
    browser.get(logged_in["url"])
    version = browser.find_element(
        "css selector", f'article.registered[data-name="{name}"] tr[data-version="1"]'
    )
    served = version.find_element("css selector", "a.served-by")
    deployment = boot.result.summary["deployment_id"]
    assert served.get_attribute("href").endswith(f"#deployment-{deployment}")
    assert browser.find_element("id", f"deployment-{deployment}").text.count("deployed") == 1
    version.find_element("css selector", "a[href*='/mlflow/']").click()
    wait_until(browser, lambda d: "Version 1" in _text(d), what="MLflow's page of version 1")
    browser.get(logged_in["url"].replace("/ui/", "/mlflow/#/models"))
    wait_until(browser, lambda d: name in _text(d) and "Version 1" in _text(d), what="MLflow's registry")
    screenshot(browser, "mlflow-registry")


def test_the_endpoint_test_box_predicts_a_quality_between_3_and_9(browser: Any, logged_in):
    browser.get(logged_in["url"])
    box = browser.find_element("id", "predict-input")
    assert json.loads(box.get_attribute("value")) == {
        "input": [[7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]]
    }
    browser.find_element("id", "predict-button").click()
    wait_until(
        browser, lambda d: _text(d, "#predict-latency").endswith(" ms"), what="the test call's latency"
    )
    response = json.loads(_text(browser, "#predict-response"))
    assert response["success"] is True
    prediction = response["response"]["prediction"][0]
    assert 3 <= prediction <= 9, prediction
    assert "HTTP 200" in _text(browser, "#predict-status")
    request = _text(browser, "#predict-request")
    assert '"accessKey":"***"' in request and "7.4" in request
    assert float(_text(browser, "#predict-latency").split()[0]) > 0
    screenshot(browser, "test-box")
    box.clear()
    box.send_keys("{not json")
    browser.find_element("id", "predict-button").click()
    wait_until(browser, lambda d: "not valid JSON" in _text(d, "#messages"), what="the bad input's message")


def test_the_page_refreshes_itself_and_shows_api_errors(browser: Any, logged_in):
    browser.get(logged_in["url"])
    wait_until(
        browser, lambda d: _text(d, "#refreshed").startswith("refreshed"), what="a refresh", timeout=30
    )
    browser.delete_all_cookies()  # the session ends: the next refresh is refused, and says so
    wait_until(
        browser,
        lambda d: "HTTP 401" in _text(d, "#messages"),
        what="the refused refresh's message",
        timeout=30,
    )
    assert "not logged in" in _text(browser, "#messages")
    assert _text(browser, "#projects"), "the panels stay as they were"
    screenshot(browser, "refresh-error")


def test_without_the_key_every_page_is_refused(boot: Bootstrapped, browser: Any, logged_in):
    url = logged_in["url"].removesuffix("/ui/")
    run_id = boot.result.summary["job_run_id"]
    pages = [
        "/ui/",
        "/ui/api/panels",
        f"/ui/logs/{run_id}",
        "/ui/static/ui.js",
        "/mlflow/",
        "/mlflow/static-files/favicon.ico",
        "/mlflow/ajax-api/2.0/mlflow/experiments/search?max_results=10",
    ]
    session = requests.Session()
    session.trust_env = False
    forged = {f"cmlops_ui_{boot.port}": "9999999999.00.deadbeef"}
    for path in pages:
        for cookies in ({}, forged):
            resp = session.get(url + path, cookies=cookies, timeout=30)
            assert resp.status_code == 401, f"{path} with {cookies or 'no cookie'}: {resp.status_code}"
            assert boot.spec.projects.dev.name not in resp.text
    predict = session.post(url + "/ui/api/predict", json={"model_id": "x", "input": "{}"}, timeout=30)
    assert predict.status_code == 401
    browser.delete_all_cookies()
    browser.get(url + "/ui/")
    wait_until(browser, lambda d: d.find_elements("css selector", "input[name=key]"), what="the login form")
    assert boot.spec.projects.dev.name not in _text(browser)
    screenshot(browser, "login")
    browser.get(url + "/mlflow/#/experiments")
    assert "UNAUTHENTICATED" in _text(browser)
    # The login form takes the workspace key.
    browser.get(url + "/ui/login")
    browser.find_element("css selector", "input[name=key]").send_keys("wrong")
    browser.find_element("css selector", "form button").click()
    wait_until(browser, lambda d: "Wrong workspace key" in _text(d), what="the wrong key's message")
    browser.find_element("css selector", "input[name=key]").send_keys(boot.workspace.api_key)
    browser.find_element("css selector", "form button").click()
    wait_until(
        browser, lambda d: d.find_elements("id", "projects"), what="the page after logging in with the key"
    )
