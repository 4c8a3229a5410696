"""The canonical formatter (``kpidsl fmt``): an AST printed back as tidy source.

``format_module`` prints a parsed module; ``format_source`` parses then prints
(None when the text has syntax errors). Parsing the output gives back an equal
module, and formatting is idempotent. Layout rules: ``docs/formatter.md``.
"""

from __future__ import annotations

from kpidsl.fmt.files import fmt_paths
from kpidsl.fmt.module import format_module, format_source

__all__ = ["fmt_paths", "format_module", "format_source"]
