"""The static checker: builds the plan model and runs passes that collect diagnostics.

Each pass is a plain function over the check context, listed in :data:`PASSES`;
every pass runs (a problem never stops the others), and the model is returned
only when no error was found. Codes are documented in ``docs/diagnostics.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kpidsl import ast
from kpidsl.check.build import build
from kpidsl.check.context import Ctx
from kpidsl.check.cycles import cycles_pass
from kpidsl.check.names import names_pass
from kpidsl.check.overrides import overrides_pass
from kpidsl.check.plantests import tests_pass
from kpidsl.check.scores import scores_pass
from kpidsl.check.tiers import tiers_pass
from kpidsl.check.types import types_pass
from kpidsl.diagnostics import Diagnostic, error, has_errors
from kpidsl.model import PlanModel
from kpidsl.source import NO_SPAN

Pass = Callable[[Ctx], None]

PASSES: tuple[Pass, ...] = (
    names_pass,
    cycles_pass,
    types_pass,
    tiers_pass,
    scores_pass,
    overrides_pass,
    tests_pass,
)

__all__ = ["PASSES", "check"]


def check(modules: Sequence[ast.Module]) -> tuple[PlanModel | None, list[Diagnostic]]:
    """Check parsed modules (the main plan first); the model is None when there are errors."""
    try:
        ctx = build(modules)
        for run in PASSES:
            run(ctx)
    except Exception as exc:  # a checker bug must still surface as a diagnostic
        internal = error("KPI0199", f"internal checker error: {type(exc).__name__}: {exc}",
                         NO_SPAN, help="please report this plan to the kpidsl maintainers")
        return None, [internal]
    diags = sorted(dedupe(ctx.diags), key=lambda d: d.sort_key())
    return (None if has_errors(diags) else ctx.model), diags


def dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    """Drop exact repeats (one expression reached from two scopes reports once)."""
    return list(dict.fromkeys(diags))
