"""Loading a plan and its imports: root confinement, missing files, cycles, encodings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kpidsl import ast
from kpidsl.syntax import load_modules, load_text_modules


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_transitive_imports_with_relative_names(tmp_path: Path) -> None:
    main = write(tmp_path / "plan.kpi", 'plan "P" {}\nimport "shared/rates.kpi"\n')
    write(tmp_path / "shared/rates.kpi", 'import "base.kpi"\nconst r: percent = 2%\n')
    write(tmp_path / "shared/base.kpi", "const b: money = 1\n")
    modules, sources, diags = load_modules(main)
    assert diags == []
    assert [m.file for m in modules] == ["plan.kpi", "shared/rates.kpi", "shared/base.kpi"]
    assert set(sources) == {"plan.kpi", "shared/rates.kpi", "shared/base.kpi"}
    const = modules[2].items[0]
    assert isinstance(const, ast.Const) and const.span.file == "shared/base.kpi"


def test_diamond_import_loads_each_file_once(tmp_path: Path) -> None:
    main = write(tmp_path / "plan.kpi", 'import "a.kpi"\nimport "b.kpi"\n')
    write(tmp_path / "a.kpi", 'import "c.kpi"\n')
    write(tmp_path / "b.kpi", 'import "c.kpi"\n')
    write(tmp_path / "c.kpi", "const c: money = 1\n")
    modules, _, diags = load_modules(main)
    assert diags == [] and [m.file for m in modules].count("c.kpi") == 1


def test_kpi0101_import_not_found(tmp_path: Path) -> None:
    main = write(tmp_path / "plan.kpi", '\nimport "missing.kpi"\n')
    _, _, diags = load_modules(main)
    assert [d.code for d in diags] == ["KPI0101"]
    assert (diags[0].span.file, diags[0].span.line) == ("plan.kpi", 2)


def test_missing_main_file_is_a_diagnostic(tmp_path: Path) -> None:
    modules, _, diags = load_modules(tmp_path / "nope.kpi")
    assert modules == () and [d.code for d in diags] == ["KPI0101"]


@pytest.mark.parametrize("target", ["../outside.kpi", "sub/../../outside.kpi", "/etc/passwd"])
def test_kpi0102_import_leaves_root(tmp_path: Path, target: str) -> None:
    root = tmp_path / "root"
    write(tmp_path / "outside.kpi", "const x: money = 1\n")
    main = write(root / "plan.kpi", f'import "{target}"\n')
    modules, _, diags = load_modules(main)
    assert [d.code for d in diags] == ["KPI0102"] and len(modules) == 1


def test_kpi0102_symlink_out_of_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = write(tmp_path / "outside.kpi", "const x: money = 1\n")
    main = write(root / "plan.kpi", 'import "link.kpi"\n')
    try:
        os.symlink(outside, root / "link.kpi")
    except OSError:
        pytest.skip("symlinks not available")
    _, _, diags = load_modules(main)
    assert [d.code for d in diags] == ["KPI0102"]


def test_kpi0103_import_cycle_names_the_chain(tmp_path: Path) -> None:
    main = write(tmp_path / "plan.kpi", 'import "a.kpi"\n')
    write(tmp_path / "a.kpi", 'import "b.kpi"\n')
    write(tmp_path / "b.kpi", 'import "a.kpi"\n')
    modules, _, diags = load_modules(main)
    assert [d.code for d in diags] == ["KPI0103"]
    assert "a.kpi -> b.kpi -> a.kpi" in diags[0].message
    assert diags[0].span.file == "b.kpi" and len(modules) == 3


def test_self_import_is_a_cycle(tmp_path: Path) -> None:
    main = write(tmp_path / "plan.kpi", 'import "plan.kpi"\n')
    _, _, diags = load_modules(main)
    assert [d.code for d in diags] == ["KPI0103"]


def test_bom_is_accepted_and_bad_utf8_is_a_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "bom.kpi").write_bytes(b"\xef\xbb\xbfconst x: money = 1\n")
    modules, _, diags = load_modules(tmp_path / "bom.kpi")
    assert diags == [] and len(modules[0].items) == 1
    (tmp_path / "bad.kpi").write_bytes(b"const x: text = \"\xff\"\n")
    modules, _, diags = load_modules(tmp_path / "bad.kpi")
    assert modules == () and [d.code for d in diags] == ["KPI0002"]
    assert "UTF-8" in diags[0].message


def test_syntax_errors_in_an_import_are_reported_with_its_name(tmp_path: Path) -> None:
    main = write(tmp_path / "plan.kpi", 'import "bad.kpi"\n')
    write(tmp_path / "bad.kpi", "metric x = 1\n")
    _, sources, diags = load_modules(main)
    assert [(d.code, d.span.file) for d in diags] == [("KPI0001", "bad.kpi")]
    assert "bad.kpi" in sources


def test_explicit_root_allows_sibling_directories(tmp_path: Path) -> None:
    main = write(tmp_path / "plans/plan.kpi", 'import "../shared/x.kpi"\n')
    write(tmp_path / "shared/x.kpi", "const x: money = 1\n")
    modules, _, diags = load_modules(main, root=tmp_path)
    assert diags == [] and [m.file for m in modules] == ["plans/plan.kpi", "shared/x.kpi"]


def test_text_plans_import_only_with_a_root(tmp_path: Path) -> None:
    write(tmp_path / "x.kpi", "const x: money = 1\n")
    modules, _, diags = load_text_modules('import "x.kpi"\n', "inline.kpi")
    assert [d.code for d in diags] == ["KPI0101"] and len(modules) == 1
    modules, sources, diags = load_text_modules('import "x.kpi"\n', "inline.kpi", root=tmp_path)
    assert diags == [] and [m.file for m in modules] == ["inline.kpi", "x.kpi"]
    assert "inline.kpi" in sources


def test_a_missing_plan_file_is_named_with_its_folder(tmp_path: Path) -> None:
    """`kpidsl.load("/srv/plans/q3/plan.kpi")`: "plan file `plan.kpi` not found" did not say which
    folder was looked in (found by helper-55's audit); the message gives the path as given."""
    import kpidsl

    missing = tmp_path / "q3" / "plan.kpi"
    with pytest.raises(kpidsl.PlanError) as info:
        kpidsl.load(missing)
    [diag] = info.value.diagnostics
    assert diag.code == "KPI0101" and f"plan file `{missing.as_posix()}` not found" in diag.message
