"""The mapping file: schema errors by key path, TOML errors by line, declared options applied."""

from __future__ import annotations

from pathlib import Path

from kpidsl.importer import import_mapping, parse_mapping


def _errors(text: str) -> list[str]:
    mapping, problems = parse_mapping(text, "m.toml")
    assert mapping is None
    return [p.column or str(p.line) for p in problems]


def test_schema_errors_name_the_key_path() -> None:
    assert _errors('[[source]]\nfile = "a.csv"\ntable = "deals"\n'
                   '[source.numbers.amount]\nthousands = "xx"\n'
                   '[source.columns]\n"金额" = "amount"\n') == ["source[0].numbers.amount.thousands"]
    assert _errors('[[source]]\nfile = "a.csv"\n') == ["source[0].table"]
    assert _errors('[[source]]\nfile = "a.csv"\ntable = "deals"\nsheeet = "x"\n') == [
        "source[0].sheeet"]
    assert _errors("version = 2\nsource = []\n") == ["version", "source"]


def test_unknown_target_column_and_date_format_are_refused() -> None:
    _, problems = parse_mapping('[[source]]\nfile = "a.csv"\ntable = "deals"\n'
                                '[source.columns]\n"日期" = "signed_on"\n'
                                '[source.dates]\nsigned = "%Y"\n', "m.toml")
    assert "dates.signed: not a target column" in problems[0].message
    _, problems = parse_mapping('[[source]]\nfile = "a.csv"\ntable = "deals"\n'
                                '[source.dates]\nsigned_on = "YYYY/MM/DD"\n', "m.toml")
    assert "not a strftime pattern" in problems[0].message


def test_toml_syntax_error_has_its_line() -> None:
    _, problems = parse_mapping('version = 1\n[[source]\n', "m.toml")
    assert problems[0].code == "KPI0750" and problems[0].line == 2


def test_encoding_override_defaults_and_strict_values(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("id\na\n", encoding="utf-8")
    (tmp_path / "d.csv").write_bytes("编号,销售,金额,状态\nD1,a,5,赢单\nD2,a,6,\nD3,a,7,搁置\n"
                                     .encode("gb18030"))
    (tmp_path / "m.toml").write_text(
        '[[source]]\nfile = "p.csv"\ntable = "payees"\n'
        '[[source]]\nfile = "d.csv"\ntable = "deals"\nencoding = "gb18030"\n'
        'strict_values = ["stage"]\n'
        '[source.columns]\n"编号" = "id"\n"销售" = "payee"\n"金额" = "amount"\n"状态" = "stage"\n'
        '[source.values.stage]\n"赢单" = "won"\n'
        '[source.defaults]\nstage = "won"\nsigned_on = "2026-07-01"\n', encoding="utf-8")
    result, problems = import_mapping(tmp_path / "m.toml")
    assert problems == [] and result is not None
    assert result.files["deals.csv"].decode() == (
        "id,payee,amount,stage,signed_on\nD1,a,5,won,2026-07-01\nD2,a,6,won,2026-07-01\n")
    [bad] = [p for p in result.problems if p.rejects]
    assert (bad.line, bad.column, bad.value) == (4, "状态 (→ stage)", "搁置")
    assert not any(p.code == "KPI0702" for p in result.problems)  # declared, not guessed


def test_missing_column_refuses_the_source_and_counts_its_rows(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("id,amount\nD1,5\nD2,6\n", encoding="utf-8")
    (tmp_path / "m.toml").write_text('[[source]]\nfile = "d.csv"\ntable = "deals"\n',
                                     encoding="utf-8")
    result, _ = import_mapping(tmp_path / "m.toml")
    assert result is not None
    [s] = result.sources
    assert (s.rows_read, s.rows_accepted, s.rows_rejected) == (2, 0, 2)
    assert result.problems[0].code == "KPI0706" and "payee" in result.problems[0].message
