"""The JavaScript counter's tests (Node.js) fail, not skip, when CI=true and Node is missing."""

import subprocess
import sys

from tests.conftest import ROOT, clean_env

NODE_TESTS = "tests/notifications/test_gsm.py"


def run_node_tests(empty_dir, **env: str) -> subprocess.CompletedProcess:
    """The Node tests with nothing on PATH (Python is started by its full path)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", NODE_TESTS, "-k", "js_", "-p", "no:cacheprovider", "-q"],
        cwd=ROOT,
        env=clean_env(PATH=str(empty_dir), **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_node_fails_the_run_in_ci(tmp_path):
    result = run_node_tests(tmp_path, CI="true")
    assert result.returncode != 0, result.stdout
    assert "the JavaScript tests must run in CI" in result.stdout
    assert "skipped" not in result.stdout


def test_missing_node_skips_outside_ci(tmp_path):
    result = run_node_tests(tmp_path, CI="")
    assert result.returncode == 0, result.stdout
    assert "2 skipped" in result.stdout
