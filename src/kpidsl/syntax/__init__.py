"""The syntax layer: ``.kpi`` text to :class:`kpidsl.ast.Module`, with diagnostics.

* :func:`parse_source` — text to (module or None, diagnostics); never raises.
* :func:`parse` — text to module, or :class:`kpidsl.diagnostics.KpiError`.
* :func:`load_modules` — a plan file and the files it imports.
"""

from __future__ import annotations

from kpidsl.syntax.loader import load_modules, load_text_modules
from kpidsl.syntax.parser import get_parser, parse, parse_source

__all__ = ["get_parser", "load_modules", "load_text_modules", "parse", "parse_source"]
