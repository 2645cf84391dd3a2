"""The scripts in examples/ run as documented (the fast ones, with small settings).

The slow ones (CIFAR-10 / Omniglot searches, the OpenML study, the latency measurement) are
only checked statically: every option their usage lines (and the docs' ``python examples/...``
commands) name is one the script defines.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]  # not from conftest: another conftest.py may hold that name
EXAMPLES = REPO / "examples"


def _run(tmp_path: Path, script: str, *args: str, data: Path | None = None) -> str:
    env = dict(os.environ)
    if data is not None:
        env["WARMNAS_SHARED_DATA"] = str(data)
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{script} {' '.join(args)} failed:\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.parametrize("method", ["knn", "portfolio"])
def test_warm_start_anneal_runs_with_each_listed_method(tmp_path, method):
    out = _run(tmp_path, "warm_start_anneal.py", "--method", method, "--budget", "2")
    assert f"{method} proposals (balanced_error, minimize)" in out
    assert "best_so_far" in out
    # kNN has neighbours to show; the portfolio has none and must say nothing about them
    assert ("nearest Oboe datasets: openml/d/" in out) == (method == "knn")


def test_metafeatures_quickstart_runs(tmp_path):
    out = _run(tmp_path, "metafeatures_quickstart.py")
    assert "nr_inst        898.0000" in out
    assert "auto-sklearn view: {'ClassEntropy'" in out


def test_metafeatures_openml_anneal_runs(tmp_path, shared_data):
    out = _run(tmp_path, "metafeatures_openml_anneal.py", "--data-dir", str(shared_data))
    assert re.search(r"NumberOfInstances\s+898\s+898", out)


def test_hardware_examples_run(tmp_path, shared_data):
    out = _run(tmp_path, "hardware_fewshot_latency.py", "--data-dir", str(shared_data))
    assert re.search(r"raspi4: Spearman rho over all cells = 0\.9\d\d", out)
    out = _run(tmp_path, "hardware_constrained_search.py", "--data-dir", str(shared_data),
               "--plot", "pareto.png")
    assert "(0 violations)" in out
    assert (tmp_path / "pareto.png").stat().st_size > 0


def _defined_options(script: Path) -> set[str]:
    return set(re.findall(r"add_argument\(\s*\"(--[\w-]+)\"", script.read_text()))


def _documented_commands() -> list[tuple[str, str]]:
    """(where, command line) for every ``python examples/NAME.py ...`` in the docs."""
    sources = [*EXAMPLES.glob("*.py"), REPO / "README.md", REPO / "CONTRIBUTING.md",
               *(REPO / "docs").glob("*.md")]
    found = []
    for path in sources:
        for line in path.read_text().splitlines():
            match = re.search(r"python3? (examples/\w+\.py[^`\n]*)", line)
            if match:
                found.append((path.name, match.group(1)))
    return found


def test_documented_example_commands_name_existing_scripts_and_options():
    commands = _documented_commands()
    assert len(commands) >= 9  # each example documents its own usage line
    for where, command in commands:
        script = REPO / command.split()[0]
        assert script.exists(), f"{where}: {command!r} names a missing script"
        unknown = set(re.findall(r"(--[\w-]+)", command)) - _defined_options(script)
        assert not unknown, f"{where}: {command!r} uses options {script.name} lacks: {unknown}"
