"""The README's set-up commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _shell_blocks():
    return re.findall(r"```sh\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)


def test_readme_opens_with_install_and_test_commands():
    launch, test = _shell_blocks()[:2]
    assert "pip install -e ." in launch and launch.endswith("gradcanvas")
    assert "pytest" in test and '".[test]"' in test


def test_ci_runs_exactly_the_readme_test_command():
    test = _shell_blocks()[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci, "the README's test command must appear verbatim as a line of .ci/run"


def test_the_readme_command_runs_the_docstring_examples():
    import tomllib

    ini = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in ini["addopts"].split()
    assert {"engine", "gui"} <= set(ini["testpaths"])


def test_ci_installs_the_pytorch_reference_first_and_runs_as_ci():
    # The oracle tests compare with PyTorch float64; under CI=true they fail without it.
    test = _shell_blocks()[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    torch = [i for i, line in enumerate(ci) if "pip install" in line and "torch==2.13.0" in line]
    assert torch and torch[0] < ci.index(test)
    assert "export CI=true" in ci[: ci.index(test)]
