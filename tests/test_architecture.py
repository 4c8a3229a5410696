"""The layering and the non-negotiables, read from the source itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "kpidsl"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def _package_imports(package: str) -> set[str]:
    root = SRC / package
    files = [root] if root.suffix == ".py" else sorted(root.rglob("*.py"))
    out: set[str] = set()
    for f in files:
        out |= {m for m in _imports(f) if m.startswith("kpidsl")}
    return out


def test_ast_imports_only_source() -> None:
    assert _package_imports("ast.py") <= {"kpidsl.source"}


def test_checker_never_imports_the_engine() -> None:
    bad = {m for m in _package_imports("check") if m.startswith(("kpidsl.eval", "kpidsl.cli"))}
    assert bad == set()


def test_engine_does_not_import_the_cli() -> None:
    assert not {m for m in _package_imports("eval") if m.startswith("kpidsl.cli")}


FLOAT = re.compile(r"\bfloat\s*\(|:\s*float\b|->\s*float\b|\bfloat\]")


def test_no_float_on_the_evaluation_path() -> None:
    offenders = []
    for f in sorted(SRC.rglob("*.py")):
        for no, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if FLOAT.search(line) and "# float-ok" not in line:
                offenders.append(f"{f.relative_to(SRC)}:{no}: {line.strip()}")
    assert offenders == []


def test_plans_are_data_never_code() -> None:
    offenders = []
    for f in sorted(SRC.rglob("*.py")):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in ("eval", "exec", "compile", "__import__"):
                    offenders.append(f"{f.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


def test_decimal_contexts_live_in_numbers_only() -> None:
    offenders = []
    for f in sorted(SRC.rglob("*.py")):
        text = f.read_text(encoding="utf-8")
        if f.name != "numbers.py" and re.search(r"getcontext\(\)|setcontext\(", text):
            offenders.append(str(f.relative_to(SRC)))
    assert offenders == []


def test_the_cli_starts_without_heavy_imports() -> None:
    """`kpidsl check` must start fast: the engine, pydantic, Lark and optional engines load lazily.

    (tests/startup checks a whole `kpidsl check` and plan load too.)
    """
    import subprocess
    import sys

    probe = (
        "import sys, kpidsl.cli; kpidsl.cli.build_parser(); "
        "heavy = ('pydantic', 'duckdb', 'openpyxl', 'pyarrow', 'hypothesis', 'kpidsl.eval', 'lark'); "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_an_evaluation_imports_no_pydantic() -> None:
    """Evaluating (and reading the JSON of) a result needs no pydantic: only `kpidsl schema` does."""
    import subprocess
    import sys

    example = Path(__file__).resolve().parents[1] / "examples" / "east-china-2026"
    probe = (
        "import sys, kpidsl; "
        f"plan = kpidsl.load({str(example / 'plan.kpi')!r}); "
        f"r = plan.evaluate({str(example / 'data')!r}, '2026-Q3'); "
        "assert r.ok and r.to_json(); "
        "print('pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    from kpidsl.eval import ResultModel  # still importable from where it was

    assert "payees" in ResultModel.model_json_schema()["properties"]
