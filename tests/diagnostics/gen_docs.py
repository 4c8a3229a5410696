"""Regenerate docs/diagnostics.md from the checker's code registry and the golden corpus.

Run ``python tests/diagnostics/gen_docs.py``; ``test_docs.py`` checks it is up to date.
"""

from __future__ import annotations

import re
from pathlib import Path

from kpidsl.check.codes import CODES

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "diagnostics" / "cases"
DECISIONS = ROOT / "tests" / "diagnostics" / "decisions.md"
HEADER_RE = re.compile(r'\Aplan "Case" \{.*?\n\}\n\n', re.S)


def example(code: str) -> str | None:
    cases = sorted(CASES.glob(f"{code}-*.kpi"))
    if not cases:
        return None
    return HEADER_RE.sub("", cases[0].read_text(encoding="utf-8")).rstrip("\n")


def section(code: str) -> list[str]:
    title, fix = CODES[code]
    out = [f"### {code}: {title}", ""]
    body = example(code)
    if body is not None:
        out += ["Example of the mistake:", "", "```kpi", body, "```", ""]
        expected = sorted(CASES.glob(f"{code}-*.expected"))[0].name
        out += [f"What the checker reports: `tests/diagnostics/cases/{expected}`.", ""]
    return [*out, f"Fix: {fix}", ""]


FRAGMENTS = ROOT / "docs" / "diagnostics"
FRAGMENT_CODE = re.compile(r"^## (KPI\d{4})\s*[—:-]+\s*(.+)$", re.M)


def fragment(name: str) -> tuple[list[str], list[tuple[str, str]]]:
    """A docs/diagnostics/_NAME.md file, headings demoted one level, and its (code, title)s."""
    text = (FRAGMENTS / f"_{name}.md").read_text(encoding="utf-8")
    body = [line for line in text.splitlines() if not line.startswith("# ")]
    demoted = [FRAGMENT_CODE.sub(r"### \1: \2", line) if line.startswith("## ") else line
               for line in body]
    return demoted, FRAGMENT_CODE.findall(text)


POSITIONS = [
    "## Positions", "",
    "Every diagnostic names its file, line and column: `plans/q3.kpi:12:18` in text, and in",
    "JSON (`kpidsl check --format json`; the data diagnostics of `kpidsl eval --format json`)",
    "the keys `file`, `line`, `col`, `end_line` and `end_col`, the same numbers as the text.",
    "",
    "* Lines and columns are 1-based; `end_line`/`end_col` is the position just after the",
    "  span (exclusive).",
    "* In a plan, a column counts characters (Unicode code points): a tab, a CJK or",
    "  full-width character and an emoji are one column each. The UTF-8 byte-order mark",
    "  of a plan file is dropped, not counted. `\\r\\n`, a lone `\\r` and `\\n` each end a line.",
    "* The excerpt under the location is drawn in terminal cells: tabs go to the next",
    "  multiple of 4, wide (CJK, full-width) characters take two cells, combining marks",
    "  none, so the carets stand under what they point at. A line longer than 240",
    "  characters is cut to an excerpt around its labels, the cut ends shown as `...`.",
    "* In a data file, the line is the physical line an editor shows (the header is",
    "  line 1; a quoted cell spanning lines counts every line) and the column is the",
    "  CSV column number (1 for the first column; the character column for inline test",
    "  tables). There, `end_col - col` is the length of the cell's value, not a column.",
    "  Line 0 means the file as a whole. A data file is shown by location only, without",
    "  an excerpt.",
    "* Text taken from a plan or its data (the excerpt, file names, values quoted in",
    "  messages) is shown in text with its control characters as pictures (ESC as `␛`),",
    "  and bidirectional overrides, C1 controls and the bytes of a file name that are not",
    "  UTF-8 as U+FFFD: nothing reaches the terminal as an escape sequence. JSON keeps",
    "  the text exact (escaped), except those file-name bytes (U+FFFD).",
    "",
]


def render() -> str:
    codes = sorted(CODES)
    lines = ["# Diagnostics", "",
             "Every problem kpidsl reports has a stable code. Codes by range:", "",
             "* KPI00xx syntax and limits (see the syntax section)",
             "* KPI01xx names, imports, fact kinds, cycles",
             "* KPI02xx types and units", "* KPI03xx tiers and tables",
             "* KPI04xx scores and payouts", "* KPI05xx overrides",
             "* KPI06xx evaluation errors (per payee)", "* KPI07xx data errors (rows)",
             "* KPI08xx tests and invariants", "", *POSITIONS,
             "## Index of codes", "", "| code | title |", "| --- | --- |"]
    syntax, syntax_codes = fragment("syntax")
    evaluation, eval_codes = fragment("eval")
    data, data_codes = fragment("data")
    index = {**dict(syntax_codes), **dict(eval_codes), **dict(data_codes)}
    index.update({c: CODES[c][0] for c in codes})
    lines += [f"| {c} | {index[c]} |" for c in sorted(index)]
    lines += ["", "## KPI00xx syntax and limits, KPI010x imports", "",
              "<!-- generated from docs/diagnostics/_syntax.md -->", *syntax, ""]
    groups = [("KPI01", "## KPI01xx names, fact kinds and cycles"),
              ("KPI02", "## KPI02xx types and units"), ("KPI03", "## KPI03xx tiers and tables"),
              ("KPI04", "## KPI04xx scores and payouts"), ("KPI05", "## KPI05xx overrides"),
              ("KPI08", "## KPI08xx tests and invariants")]
    for prefix, heading in groups:
        if prefix == "KPI08":
            lines += ["## KPI06xx evaluation errors", "",
                      "<!-- generated from docs/diagnostics/_eval.md -->", *evaluation, "",
                      "## KPI07xx data errors", "",
                      "<!-- generated from docs/diagnostics/_data.md -->", *data, ""]
        lines += [heading, ""]
        for c in codes:
            if c.startswith(prefix):
                lines += section(c)
    lines += ["## KPI0006 reported by the checker", "", *section("KPI0006")]
    lines += [DECISIONS.read_text(encoding="utf-8").rstrip("\n"), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    (ROOT / "docs" / "diagnostics.md").write_text(render(), encoding="utf-8")
