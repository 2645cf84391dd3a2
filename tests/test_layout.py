"""The test tree must collect under pytest's default (prepend) import mode.

Test files in folders without ``__init__.py`` are imported by their bare
basename, so two of them with the same name make collection fail with
"import file mismatch" on a clean checkout (the order of collection decides
which one wins, so it may pass on one machine and fail on another).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def test_test_modules_have_unique_import_names():
    seen: dict[str, list[str]] = defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        seen[_module_name(path)].append(str(path.relative_to(TESTS)))
    clashes = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not clashes, f"rename one of each clashing test file: {clashes}"
