"""Audit of ``kpidsl fmt``: meaning kept to the last digit, errors on stderr, safe writes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fmt_files import CLEAN, MESSY, _write  # tests/fmt is on the path: no package

from kpidsl import ast
from kpidsl.cli import main
from kpidsl.fmt import fmt_paths, format_module, format_source
from kpidsl.numbers import quantize
from kpidsl.syntax.parser import parse

# ---------------------------------------------------------------- the rounding quantum


@pytest.mark.parametrize("quantum", ["0.010", "0.50", "1_000", "0.05", "1"])
def test_the_rounding_quantum_is_printed_as_written(quantum: str) -> None:
    # 0.010 and 0.01 are equal numbers, but rounding to 0.010 shows three decimals
    # (12.350): `fmt` rewrote it as 0.01 and every amount in `eval` changed.
    assert str(quantize(Decimal("12.3456"), Decimal("0.010"))) == "12.350"
    source = f'plan "P" {{\n  rounding half_up {quantum}  // the quantum\n}}\n'
    formatted, diagnostics = format_source(source)
    assert diagnostics == []
    assert formatted == source


def test_the_rounding_quantum_keeps_its_scale_written_over_lines() -> None:
    source = 'plan "P" {\n  rounding  // how\n    half_even\n    0.010\n}\n'
    formatted, _ = format_source(source)
    assert formatted is not None
    assert "rounding half_even 0.010  // how" in formatted
    assert format_source(formatted)[0] == formatted


def test_a_header_built_in_python_keeps_its_quantum_scale() -> None:
    header = ast.PlanHeader("P", quantum=Decimal("0.010"))  # equal to the default 0.01
    text = format_module(ast.Module(header, ()))
    assert "rounding half_up 0.010" in text


_QUANTA = st.builds(
    lambda whole, frac: whole + (f".{frac}" if frac else ""),
    st.sampled_from(["0", "1", "5", "25", "100", "1_000"]),
    st.sampled_from(["", "0", "00", "01", "010", "05", "50", "500", "0_01"]),
).filter(lambda t: Decimal(t.replace("_", "")) > 0)


@settings(max_examples=50, deadline=None)
@given(_QUANTA, st.booleans())
def test_any_written_quantum_comes_back_with_its_digits(quantum: str, messy: bool) -> None:
    source = f'plan "P" {{ precision 30 rounding half_even {quantum} currency USD }}\n'
    if not messy:
        source = format_source(source)[0] or ""
    formatted, _ = format_source(source)
    assert formatted is not None and f"rounding half_even {quantum}\n" in formatted
    header = parse(formatted).header
    assert header is not None
    assert header.quantum.as_tuple() == Decimal(quantum.replace("_", "")).as_tuple()


@settings(max_examples=50, deadline=None)
@given(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1000"), places=4))
def test_a_quantum_built_in_python_comes_back_at_its_scale(quantum: Decimal) -> None:
    header = ast.PlanHeader("P", quantum=quantum)
    parsed = parse(format_module(ast.Module(header, ())))
    assert parsed.header is not None
    assert parsed.header.quantum.as_tuple() == quantum.as_tuple()


def test_a_header_changed_in_python_keeps_the_new_setting() -> None:
    # `settings` (what was written) is not part of equality: a value set after
    # parsing was dropped, and the plan lost its precision.
    module = parse('plan "P" {\n  currency USD\n}\n')
    assert module.header is not None
    changed = attrs.evolve(module, header=attrs.evolve(module.header, precision=40))
    text = format_module(changed)
    assert text == 'plan "P" {\n  currency USD\n  precision 40\n}\n'
    assert parse(text) == changed


def test_a_number_without_its_source_text_keeps_its_scale() -> None:
    module = ast.Module(None, (ast.Const("rate", "number", ast.Number(Decimal("1.50"))),))
    assert format_module(module) == "const rate: number = 1.50\n"


# ---------------------------------------------------------------- comments in place


def test_a_comment_on_a_fact_key_or_date_line_stays_on_it() -> None:
    source = (
        "fact 合同 {\n"
        "  key 编号  // 合同号\n"
        "  date 签约日  // 签约日期, not the key\n"
        "  金额: money  // 含税\n"
        "}\n"
    )
    assert format_source(source) == (source, [])


def test_a_field_of_type_date_is_not_taken_for_the_date_member() -> None:
    source = "fact f {\n  key id  // k\n  signed: date\n  date signed  // d\n}\n"
    formatted, _ = format_source(source)
    assert formatted == "fact f {\n  key id  // k\n  date signed\n  signed: date\n  // d\n}\n"
    assert format_source(formatted)[0] == formatted


def test_key_and_date_on_one_line_keep_the_comment_on_the_date() -> None:
    source = "fact f {\n  key id date d  // both\n  a: text\n}\n"
    formatted, _ = format_source(source)
    assert formatted == "fact f {\n  key id\n  date d  // both\n  a: text\n}\n"


def test_key_written_after_the_fields_keeps_the_comments_in_order() -> None:
    source = "fact f {\n  a: text  // a\n  key id  // k\n}\n"
    formatted, _ = format_source(source)
    assert formatted == "fact f {\n  key id\n  a: text  // a\n  // k\n}\n"
    assert format_source(formatted)[0] == formatted


# ---------------------------------------------------------------- errors go to stderr


def test_diff_of_an_unreadable_file_reports_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.kpi"
    plan.write_bytes(b"target x = 1 \xff\n")
    code = main(["fmt", "--diff", str(plan)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""  # `fmt --diff > fix.patch` must not hold an error message
    assert err.startswith(f"error: cannot read {plan}")


def test_syntax_errors_are_reported_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _write(tmp_path / "bad.kpi", "metric x: money = 1 +\n")
    messy = _write(tmp_path / "messy.kpi", MESSY)
    code = main(["fmt", "--check", str(bad), str(messy)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == f"would reformat {messy}\n"
    assert "error[KPI0003]" in err and "bad.kpi" in err
    assert bad.read_text(encoding="utf-8") == "metric x: money = 1 +\n"


# ---------------------------------------------------------------- --diff


def test_diff_marks_a_missing_final_newline(tmp_path: Path) -> None:
    plan = tmp_path / "plan.kpi"
    plan.write_bytes(b"target   x=1")
    code, out = fmt_paths([plan], diff=True)
    assert code == 0
    assert out.endswith("-target   x=1\n\\ No newline at end of file\n+target x = 1\n")


def test_diff_splits_lines_only_at_newlines(tmp_path: Path) -> None:
    # str.splitlines also breaks at a form feed (or U+2028) inside a string: the
    # diff showed a line that is not in the file and the patch did not apply.
    plan = tmp_path / "plan.kpi"
    plan.write_bytes('table t by deal.x {\n  "a\x0cb":1  // a\u2028b\n}\n'.encode())
    code, out = fmt_paths([plan], diff=True)
    assert code == 0
    assert '\n-  "a\x0cb":1  // a\u2028b\n+  "a\x0cb" : 1  // a\u2028b\n }\n' in out


def test_a_file_named_twice_is_formatted_once(tmp_path: Path) -> None:
    plan = _write(tmp_path / "plan.kpi", MESSY)
    code, out = fmt_paths([tmp_path, plan, str(plan)], check=True)
    assert code == 1
    assert out == f"would reformat {plan}\n"


def test_a_file_name_that_is_not_utf8_is_printed_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The name's bytes came back as surrogates, which a UTF-8 stdout refuses: a
    # traceback after the files were rewritten, and none of them listed.
    try:
        plan = Path(os.fsdecode(os.fsencode(tmp_path) + b"/\xff.kpi"))
        plan.write_bytes(MESSY.encode())
    except (OSError, UnicodeError):
        pytest.skip("the file system refuses a name that is not UTF-8")
    code, out = fmt_paths([tmp_path])
    assert code == 0
    out.encode("utf-8")  # printable
    assert out == f"reformatted {os.fsencode(tmp_path).decode('utf-8', 'replace')}/\\xff.kpi\n"
    assert plan.read_text(encoding="utf-8") == CLEAN


# ---------------------------------------------------------------- writing in place


_FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (16, 16))  # a write past 16 bytes fails (EFBIG)
from kpidsl.cli import main
sys.exit(main(["fmt", *sys.argv[1:]]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_failed_write_leaves_the_plan_whole(tmp_path: Path) -> None:
    long_plan = "// a plan too long to write back under the limit\n" + MESSY
    big = _write(tmp_path / "a.kpi", long_plan)
    small = _write(tmp_path / "b.kpi", "target  x=1\n")  # 13 bytes formatted: fits
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(big), str(small)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert big.read_text(encoding="utf-8") == long_plan  # not truncated
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"error: cannot write {big}" in done.stderr
    assert small.read_text(encoding="utf-8") == "target x = 1\n"  # the others are still done
    assert done.stdout == f"reformatted {small}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.kpi", "b.kpi"]  # no temporary left


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions and symlinks")
def test_rewriting_keeps_the_mode_and_a_symlink(tmp_path: Path) -> None:
    real = _write(tmp_path / "plans" / "real.kpi", MESSY)
    real.chmod(0o640)
    link = tmp_path / "link.kpi"
    link.symlink_to(real)
    code, out = fmt_paths([link])
    assert (code, out) == (0, f"reformatted {link}\n")
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == CLEAN
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.kpi"]
