"""Fallbacks (``X else F``) and which failures a payee's result reports as errors.

``X else F`` catches any evaluation error that arises while ``X`` is evaluated,
including the failure of a named value ``X`` uses (a missing input, a missing
or zero target, an empty ``avg``...). Every use of a named value by another is
recorded with whether it was under a fallback (*guarded*). A failed value is
then *reported* (an error of the payee, under the name where the failure
arose) when it is a payout, when nothing uses it (it was evaluated for its own
sake), or when a reported value uses it without a fallback. A failure that is
only ever used under fallbacks stays in ``failures`` (explainable) without
failing the payee. See docs/semantics-decisions.md.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from kpidsl import ast
from kpidsl.eval.collect import Collector
from kpidsl.eval.compile import FactCtx, Fn, Value
from kpidsl.eval.errors import INVALID_OPERATION, DependencyFailure, EvalFailure
from kpidsl.eval.result import EvalError, value_text
from kpidsl.eval.unparse import unparse

if TYPE_CHECKING:
    from kpidsl.eval.env import Env


@attrs.define
class Uses:
    """Who used which named value, and whether every use so far was under a fallback."""

    # user -> used name -> True when at least one use was NOT under a fallback
    edges: dict[str, dict[str, bool]] = attrs.field(factory=dict)
    frames: list[str] = attrs.field(factory=list)  # named values being evaluated, innermost last
    guards: list[int] = attrs.field(factory=lambda: [0])  # fallback depth per frame (0: top level)

    def use(self, name: str) -> None:
        if not self.frames:
            return  # a top-level evaluation is not a use
        deps = self.edges.setdefault(self.frames[-1], {})
        deps[name] = deps.get(name, False) or self.guards[-1] == 0

    def enter(self, name: str) -> None:
        self.frames.append(name)
        self.guards.append(0)

    def leave(self) -> None:
        self.frames.pop()
        self.guards.pop()


def reported(failures: Mapping[str, EvalError], uses: Uses, payouts: set[str]) -> set[str]:
    """The failed names whose failure reaches the payee: payouts, unused values, unguarded deps."""
    used = {dep for deps in uses.edges.values() for dep in deps}
    todo = [n for n in failures if n in payouts or n not in used]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(dep for dep, unguarded in uses.edges.get(name, {}).items()
                    if unguarded and dep in failures)
    return seen


def reported_errors(env: Env) -> dict[str, EvalError]:
    """The errors of the payee in this segment, each under the name where it arose."""
    payouts = {n for n, a in env.seg.defs.items() if isinstance(a.definition, ast.Payout)}
    out: dict[str, EvalError] = {}
    for name in sorted(reported(env.failures, env.uses, payouts)):
        root = env.root_of.get(name, name)
        err = env.roots.get(root, env.failures[name])
        out.setdefault(err.name, err)
    return out


def fallback(env: Env, e: ast.Fallback, main: Fn, alt: Fn, f: FactCtx | None) -> Value:
    """``main else alt``: alt when main raises any evaluation error; explained when not per fact."""
    col = Collector(formula=unparse(e)) if f is None else None
    if col is not None:
        env.push(col)
    try:
        caught = _try_main(env, main, f)
        if isinstance(caught, (EvalFailure, DependencyFailure)):
            value = alt(env, f)
        else:
            value = caught
    finally:
        if col is not None:
            env.pop()
    if col is None:
        return value
    if isinstance(caught, (EvalFailure, DependencyFailure)):
        origin = caught if isinstance(caught, EvalFailure) else caught.origin
        shown = "(none)" if value is None else value_text(value)
        col.note(f"`{unparse(e.expr)}` failed: {origin.message}")
        col.note(f"fallback `{unparse(e.fallback)}` used: {shown}")
        env.attach(col.build(unparse(e), "expr", None if value is None else shown, span=e.span))
    else:
        for child in col.children.values():
            env.attach(child)
    return value


def _try_main(env: Env, main: Fn, f: FactCtx | None) -> Value | EvalFailure | DependencyFailure:
    env.uses.guards[-1] += 1
    try:
        return main(env, f)
    except (EvalFailure, DependencyFailure) as exc:
        return exc
    except decimal.DecimalException as exc:
        return EvalFailure(INVALID_OPERATION, f"invalid decimal operation: {type(exc).__name__}")
    finally:
        env.uses.guards[-1] -= 1
