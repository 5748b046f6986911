"""The house rules of the package's layout: imports run one way between subpackages, the engine and the model
stay free of ZigZag and Stream, the top level stays small, no module edits sys.path."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "zz_event"

# Top-level helper modules every part may use ("base"); `errors` is the only one they use in turn.
_BASE_MODULES = {"errors", "memo", "provenance", "output_files", "interruption"}
_BASE = {"base"}
# What each part may import of zz_event (besides itself). Anything else is an import against the direction
# model <- engine <- zigzag <- {mapspace, search, stream, report} <- commands, with readers beside the engine.
ALLOWED = {
    "base": set(),
    "model": _BASE,
    "engine": _BASE | {"model"},
    "readers": _BASE | {"model"},
    "zigzag": _BASE | {"model", "engine", "readers"},
    "mapspace": _BASE | {"model", "engine", "readers", "zigzag"},
    "search": _BASE | {"model", "engine", "readers", "zigzag"},
    "stream": _BASE | {"model", "engine", "readers", "zigzag"},
    "report": _BASE | {"model", "engine", "readers", "zigzag", "stream", "mapspace"},
    "sweep": _BASE | {"model", "engine", "readers", "zigzag", "stream", "mapspace", "report"},
    "commands": None,  # anything
    "cli": None,
    "package": None,  # zz_event/__init__.py names the public verbs of every part
}
# Third-party packages a part must not import: the model and the engine are ZigZag- and Stream-free.
FORBIDDEN_THIRD_PARTY = {"model": {"zigzag", "stream"}, "engine": {"zigzag", "stream"}}


def part_of(module: str) -> str:
    """The layout part of a dotted zz_event module name."""
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    if parts[1] in _BASE_MODULES:
        return "base"
    return parts[1]


def imports_of(path: Path, module: str) -> list[str]:
    """Every module `path` imports, at any depth of the file (function-level imports included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                base = ".".join(module.split(".")[: -node.level] + ([base] if base else []))
            found += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return found


def violations(edges: list[tuple[str, str]]) -> list[str]:
    """The (importer, imported) pairs that run against the layout's direction."""
    bad = []
    for importer, imported in edges:
        part = part_of(importer)
        top = imported.split(".")[0]
        if top in FORBIDDEN_THIRD_PARTY.get(part, ()):
            bad.append(f"{importer} imports {imported} ({part} must not depend on {top})")
        if top != "zz_event" or imported == "zz_event":
            continue
        target, allowed = part_of(imported), ALLOWED.get(part, set())
        if allowed is not None and target != part and target not in allowed:
            bad.append(f"{importer} imports {imported} ({part} may import only {sorted(allowed)})")
    return bad


def package_edges() -> list[tuple[str, str]]:
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(relative.parts[:-1] if relative.name == "__init__" else relative.parts)
        edges += [(module, imported) for imported in imports_of(path, module)]
    return edges


def test_every_part_of_the_package_is_known_to_the_rules():
    parts = {part_of(importer) for importer, _ in package_edges()}
    assert parts <= set(ALLOWED), sorted(parts - set(ALLOWED))


def test_imports_run_one_way_and_the_engine_is_zigzag_free():
    assert violations(package_edges()) == []


@pytest.mark.parametrize(
    "edge",
    [
        ("zz_event.engine.words", "zz_event.zigzag.result"),  # the engine reaching up into the integration
        ("zz_event.engine.words", "zigzag.datatypes"),  # the engine importing ZigZag
        ("zz_event.model.nest", "stream.api"),  # the model importing Stream
        ("zz_event.zigzag.stages", "zz_event.mapspace.rows"),  # the integration reaching up into the mapspace
        ("zz_event.readers.workloads", "zz_event.engine.evaluate"),  # readers beside, not above, the engine
    ],
)
def test_a_deliberate_violation_is_reported(edge):
    assert len(violations([edge])) == 1


def test_the_top_level_is_small_and_modules_are_short():
    top = [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    assert len(top) <= 8, top
    lines = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    long = {name: n for name, n in lines.items() if n > 400}
    assert long == {}


def test_no_module_edits_sys_path():
    editing = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if "sys.path" in p.read_text()]
    assert editing == []
