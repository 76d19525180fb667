"""The import graph, read with `ast`: ingest and service both build on core, and neither imports the other."""

import ast
from pathlib import Path

from pressqa.settings import REPO_ROOT

PACKAGES = ("core", "ingest", "service", "eval", "pressqa", "bench")


def imported_packages(package: str) -> dict[str, set[str]]:
    """For each module of the package: the top-level names of the repo's packages it imports (at any depth)."""
    graph = {}
    for path in sorted((REPO_ROOT / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        graph[str(path.relative_to(REPO_ROOT))] = names & set(PACKAGES)
    return graph


def offenders(package: str, forbidden: set[str]) -> list[str]:
    return [f"{module} imports {sorted(names & forbidden)}" for module, names in imported_packages(package).items() if names & forbidden]


def test_core_imports_neither_ingest_nor_service():
    assert offenders("core", {"ingest", "service", "eval", "bench"}) == []


def test_ingest_never_imports_service():
    assert offenders("ingest", {"service", "eval", "bench"}) == []


def test_service_never_imports_ingest():
    assert offenders("service", {"ingest", "eval", "bench"}) == []


def test_ingest_and_service_both_build_on_core():
    for package in ("ingest", "service"):
        assert any("core" in names for names in imported_packages(package).values()), f"{package} does not import core"


def test_the_moved_modules_are_gone_from_their_old_places():
    """No compatibility shims: one home for each module."""
    for old in ("ingest/store.py", "ingest/lexical.py", "ingest/embeddings.py", "ingest/onnx_minilm.py", "ingest/records.py",
                "ingest/chunking.py", "service/cli_ask.py", "service/runtime.py", "service/api/loadtest.py", "pressqa/cli.py"):
        assert not Path(REPO_ROOT / old).exists(), old
