"""Browser tests fail, not skip, when CI=true and Chromium is missing."""

import subprocess
import sys

from tests.conftest import ROOT, clean_env

BROWSER_TEST = "tests/browser/test_home_page.py::test_home_page_works_without_javascript"


def run_browser_test(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", BROWSER_TEST, "-p", "no:cacheprovider", "-q"],
        cwd=ROOT,
        env=clean_env(CHROMIUM_PATH="/nonexistent/chromium", **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_chromium_fails_the_run_in_ci():
    result = run_browser_test(CI="true")
    assert result.returncode != 0
    assert "browser tests must run in CI" in result.stdout


def test_missing_chromium_skips_outside_ci():
    result = run_browser_test(CI="")
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
