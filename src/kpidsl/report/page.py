"""The page shell shared by every report page: inline CSS, no script, no network.

Every page is a complete document with ``<meta charset="utf-8">``, a system
font stack that covers Chinese, and only relative links inside the site.
Figures carry ``data-key`` (``total``, ``components.bonus``, ``values.bookings``)
and ``data-value`` (the exact decimal string of the JSON result) so that a
test, or a reader's tool, can check the page against the result.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Context, Decimal

from kpidsl.explain.fragment import FRAGMENT_CSS
from kpidsl.explain.render import format_value
from kpidsl.numbers import fmt
from kpidsl.report.safe import esc

_CTX = Context(prec=28)

CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB",
  "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif;
  margin: 0; color: #1d2330; background: #f6f7f9; line-height: 1.45; }
header.top { background: #1f3a5f; color: #fff; padding: .8rem 2rem; }
header.top a { color: #dbe7ff; }
header.top .meta { font-size: .8rem; opacity: .85; }
main { max-width: 980px; margin: 1.2rem auto; padding: 0 1.2rem; }
section { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: .8rem 1.2rem;
  margin-bottom: 1rem; }
h1 { font-size: 1.35rem; margin: .2rem 0; }
h2 { font-size: 1.05rem; margin: .2rem 0 .6rem; color: #1f3a5f; }
table.grid { border-collapse: collapse; width: 100%; font-size: .9rem; }
table.grid th, table.grid td { border-bottom: 1px solid #e4e7ec; padding: .3rem .5rem;
  text-align: left; vertical-align: top; }
table.grid th { background: #f0f2f5; font-weight: 600; }
.num { text-align: right !important; font-variant-numeric: tabular-nums;
  font-family: ui-monospace, Menlo, Consolas, "Noto Sans Mono CJK SC", monospace; }
.total { font-size: 1.8rem; font-weight: 700; color: #1f3a5f; }
.muted { color: #6b7280; font-size: .85rem; }
.error { color: #b00020; font-weight: 600; }
.progress { margin: .4rem 0 .8rem; }
nav.filters a { display: inline-block; margin: 0 .3rem .3rem 0; padding: .15rem .6rem;
  border: 1px solid #c5ccd8; border-radius: 999px; text-decoration: none; color: #1f3a5f;
  font-size: .85rem; }
.board { display: none; }
.board:target { display: block; }
#board-all { display: block; }
.board:target ~ #board-all { display: none; }
"""


def money(value: Decimal | None) -> str:
    """A figure for display: digits grouped, every digit kept; an em dash when absent."""
    return "—" if value is None else format_value(fmt(value))


def figure(key: str, value: Decimal | None, tag: str = "span", cls: str = "num") -> str:
    """A figure element carrying its exact value for checking against the JSON result."""
    if value is None:
        return f'<{tag} class="{cls} error" data-key="{esc(key)}">—</{tag}>'
    exact = fmt(value)
    return (
        f'<{tag} class="{cls}" data-key="{esc(key)}" data-value="{esc(exact)}">'
        f"{esc(format_value(exact))}</{tag}>"
    )


def text_figure(key: str, exact: str, tag: str = "td", *, percent: bool = False) -> str:
    """A named value (already exact text, as in the JSON result) as a checked cell.

    With ``percent`` the cell shows the ratio as a percent to 0.1 (``135.2%``);
    ``data-value`` always keeps the exact value.
    """
    shown = as_percent(exact) if percent else format_value(exact)
    return f'<{tag} class="num" data-key="{esc(key)}" data-value="{esc(exact)}">{esc(shown)}</{tag}>'


def as_percent(exact: str) -> str:
    """``1.3517686500`` -> ``135.2%`` (display only); text that is not a number is kept."""
    try:
        v = Decimal(exact)
    except ArithmeticError:
        return exact
    pct = _CTX.multiply(v, Decimal(100)).quantize(Decimal("0.1"), context=_CTX)
    return f"{format_value(fmt(pct))}%"


def up_to_cent(value: Decimal) -> str:
    """An amount still needed, rounded up to the cent so that reaching it is enough."""
    return format_value(fmt(value.quantize(Decimal("0.01"), rounding=ROUND_CEILING, context=_CTX)))


def progress_svg(fraction: Decimal, label: str, width: int = 320) -> str:
    """A horizontal bar as inline SVG; ``fraction`` is clamped to 0..1."""
    f = min(Decimal(1), max(Decimal(0), fraction))
    filled = int(_CTX.multiply(f, Decimal(width)).to_integral_value(context=_CTX))
    return (
        f'<svg class="bar" width="{width}" height="14" viewBox="0 0 {width} 14" role="img" '
        f'aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect width="{width}" height="14" rx="3" fill="#e3e7ee"/>'
        f'<rect width="{filled}" height="14" rx="3" fill="#2f7d4f"/></svg>'
    )


def shell(title: str, subtitle: str, body: str, *, root: str = "", lang: str = "zh") -> str:
    """A complete, self-contained page; ``root`` is the relative path to the site's top."""
    home = f'<a href="{esc(root)}index.html">Summary</a>' if root is not None else ""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}{FRAGMENT_CSS}</style>\n</head>\n<body>\n"
        f'<header class="top"><div class="meta">{esc(subtitle)} · {home}</div>'
        f"<h1>{esc(title)}</h1></header>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def table(header: list[str], rows: list[str], num_cols: set[int] | None = None) -> str:
    """A grid table: ``header`` as plain text (escaped here), ``rows`` as ready ``<tr>`` markup."""
    nums = num_cols or set()
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if i in nums else f"<th>{esc(h)}</th>" for i, h in enumerate(header)
    )
    return f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
