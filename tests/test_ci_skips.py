"""tests/conftest.py in CI (CI=true): a skip for a missing requirement fails; declared skips and xfails stay."""

from __future__ import annotations

from pathlib import Path

import pytest

INNER_TESTS = """
import pytest

def test_calls_skip():
    pytest.skip("needs Java")

def test_imports_a_missing_module():
    pytest.importorskip("nerkit_no_such_module", reason="needs nerkit_no_such_module")

@pytest.fixture(scope="module")
def chromium():
    pytest.skip("needs chromium")

def test_uses_a_skipping_fixture(chromium):
    pass

@pytest.mark.skip(reason="declared")
def test_declared_skip():
    pass

@pytest.mark.skipif(True, reason="declared, conditional")
def test_declared_skipif():
    pass

@pytest.mark.xfail(reason="a known bug")
def test_xfail_mark():
    assert False

def test_imperative_xfail():
    pytest.xfail("a known bug")

def test_passes():
    pass
"""

INNER_MODULE_SKIP = """
import pytest

pytest.importorskip("nerkit_no_such_module", reason="the module needs nerkit_no_such_module")

def test_never_collected():
    pass
"""


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    """A folder holding this project's tests/conftest.py and tests that skip in each way."""
    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text(encoding="utf-8"))
    pytester.makepyfile(test_skips=INNER_TESTS, test_module_skip=INNER_MODULE_SKIP)
    return pytester


def test_in_ci_a_skip_for_a_missing_requirement_fails(inner: pytest.Pytester, monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    result = inner.runpytest("-rA", "test_skips.py")
    result.assert_outcomes(passed=1, failed=2, errors=1, skipped=2, xfailed=2)  # a fixture's: an error
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "Skipped: needs Java",
            "CI=true: a test skipped for a missing requirement fails in CI, where `make install` provides*",
        ]
    )
    result.stdout.fnmatch_lines(["*Skipped: needs nerkit_no_such_module"])
    result.stdout.fnmatch_lines(
        ["ERROR test_skips.py::test_uses_a_skipping_fixture - Skipped: needs chromium"]
    )
    result.stdout.fnmatch_lines(["SKIPPED * test_skips.py:*: declared"])


def test_in_ci_a_module_level_skip_is_a_collection_error(inner: pytest.Pytester, monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    result = inner.runpytest("test_module_skip.py")
    result.assert_outcomes(errors=1)
    assert result.ret == pytest.ExitCode.INTERRUPTED  # pytest stops on a collection error
    result.stdout.fnmatch_lines(
        ["ERROR test_module_skip.py - Skipped: the module needs nerkit_no_such_module"]
    )


@pytest.mark.parametrize("ci", [None, "false", "1"])
def test_elsewhere_the_same_tests_skip(inner: pytest.Pytester, monkeypatch, ci: str | None) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    result = inner.runpytest()
    result.assert_outcomes(passed=1, skipped=6, xfailed=2)
    assert result.ret == pytest.ExitCode.OK
