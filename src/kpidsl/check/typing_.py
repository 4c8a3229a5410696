"""Type inference of expressions (KPI02xx): the units of every operand and result."""

from __future__ import annotations

import attrs

from kpidsl import ast
from kpidsl.check import units
from kpidsl.check.context import Ctx, Scope, is_literal_number
from kpidsl.diagnostics import Label
from kpidsl.model import PAYEE_TYPE, SHARE_FIELD, VALUE_TYPES
from kpidsl.numbers import fmt, percent_text

ARITH = ("+", "-")
COMPARE = ("==", "!=", "<", "<=", ">", ">=")


@attrs.define
class Typer:
    """Infers types in one scope; reports problems only when ``report`` is set."""

    ctx: Ctx
    scope: Scope
    report: bool = True
    cache: dict[int, str | None] = attrs.field(factory=dict)

    def err(self, code: str, msg: str, e: ast.Expr, label: str, **kw: object) -> None:
        if self.report:
            self.ctx.err(code, msg, e.span, label, **kw)  # type: ignore[arg-type]

    def infer(self, e: ast.Expr) -> str | None:
        """The value type of ``e``; None when unknown (already reported elsewhere)."""
        if isinstance(e, ast.Number):
            return "percent" if e.percent else "number"
        if isinstance(e, ast.String):
            return "text"
        if isinstance(e, ast.DateLit):
            return "date"
        if isinstance(e, ast.Bool):
            return "bool"
        if isinstance(e, ast.Name):
            return self.name_type(e.name)
        if isinstance(e, ast.Field):
            return self.field_type(e)
        if isinstance(e, ast.Unary):
            return self.unary(e)
        if isinstance(e, ast.Binary):
            return self.binary(e)
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, (ast.InWindow, ast.InList)):
            return self.membership(e)
        if isinstance(e, ast.Fallback):
            return self.fallback(e)
        return self.aggregate(e)

    # -- names and fields ------------------------------------------------

    def name_type(self, name: str) -> str | None:
        d = self.scope.visible.get(name)
        if d is None:
            return None
        if isinstance(d, (ast.InputDecl, ast.Metric, ast.Const, ast.Payout)):
            return d.type if d.type in VALUE_TYPES else None
        if isinstance(d, ast.Score):
            return "percent"
        return self.callable_type(d) if isinstance(d, (ast.Table, ast.Tiers)) else None

    def callable_type(self, d: ast.Table | ast.Tiers, arg: str | None = None) -> str | None:
        """A table's value type, or a tiers' result (for an argument of type ``arg``)."""
        if id(d) not in self.cache:
            self.cache[id(d)] = None  # guards against a cycle (reported by KPI0122)
            quiet = attrs.evolve(self, report=False)
            self.cache[id(d)] = quiet.value_type(d)
        value = self.cache[id(d)]
        if isinstance(d, ast.Table) or value is None or d.mode in ("lookup", "interpolated"):
            return value
        if value not in ("percent", "number"):
            return value
        base = arg if arg is not None else self.tiers_base(d)
        return units.multiply(base, value) if base is not None else None

    def value_type(self, d: ast.Table | ast.Tiers) -> str | None:
        if isinstance(d, ast.Table):
            vals = [x.value for x in d.entries] + ([d.default] if d.default else [])
        else:
            vals = [b.value if isinstance(b, ast.Band) else b.y for b in d.bands]
        return self.common([v for v in vals if v is not None], "KPI0211")

    def tiers_base(self, d: ast.Tiers) -> str | None:
        on = d.on
        if isinstance(on, ast.Call) and on.func == "attainment" and on.args:
            arg = on.args[0]
            return self.name_type(arg.name) if isinstance(arg, ast.Name) else None
        return self.infer(on)

    def field_type(self, e: ast.Field) -> str | None:
        kind = self.ctx.model.kinds.get(e.kind)
        for i, step in enumerate(e.path):
            if kind is None:
                return None
            typ = kind.fields.get(step) or ("number" if step == SHARE_FIELD else None)
            last = i == len(e.path) - 1
            if typ is None:
                return None
            if typ in VALUE_TYPES or typ == PAYEE_TYPE:
                return ("text" if typ == PAYEE_TYPE else typ) if last else None
            if last:
                return "text"  # a reference compares as the referenced key
            kind = self.ctx.model.kinds.get(typ)
        return None

    # -- operators -------------------------------------------------------

    def unary(self, e: ast.Unary) -> str | None:
        t = self.infer(e.operand)
        if t is None:
            return None
        if e.op == "not":
            return self.expect_bool(e.operand, t)
        if t not in units.NUMERIC:
            self.err("KPI0213", f"cannot negate a {t} value", e.operand, t)
            return None
        return t

    def expect_bool(self, e: ast.Expr, t: str | None) -> str:
        if t is not None and t != "bool":
            self.err("KPI0206", f"a condition must be bool, not {t}", e, t,
                     help="compare it: `x > 0`, `x == \"won\"`")
        return "bool"

    def binary(self, e: ast.Binary) -> str | None:
        lt, rt = self.infer(e.left), self.infer(e.right)
        if e.op in ("and", "or"):
            self.expect_bool(e.left, lt)
            self.expect_bool(e.right, rt)
            return "bool"
        if lt is None or rt is None:
            return "bool" if e.op in COMPARE else None
        if e.op in COMPARE:
            if not units.comparable(lt, rt, *self.lits(e), e.op):
                self.both("KPI0207", f"cannot compare {lt} with {rt}", e, lt, rt)
            else:
                self.percent_as_plain(e, lt, rt)
            return "bool"
        if lt not in units.NUMERIC or rt not in units.NUMERIC:
            bad = e.left if lt not in units.NUMERIC else e.right
            self.err("KPI0213", f"`{e.op}` needs numbers, not {lt if bad is e.left else rt}",
                     bad, lt if bad is e.left else rt)
            return None
        return self.arith(e, lt, rt)

    def percent_as_plain(self, e: ast.Binary, lt: str, rt: str) -> None:
        """KPI0220 (warning): a percent compared with a plain number above 10, which adapts as a
        fraction: ``attainment(bookings) >= 80`` asks for 8,000%, when 80% was surely meant
        (a plain 1.5 is 150% and may be meant; a plain 80 never is)."""
        for side, other, other_type in ((e.left, e.right, rt), (e.right, e.left, lt)):
            number = side.operand if isinstance(side, ast.Unary) and side.op == "-" else side
            if (other_type == "percent" and is_literal_number(side) and isinstance(number, ast.Number)
                    and abs(number.value) > 10 and self.report):
                value = number.value if number is side else -number.value
                shown, pct = fmt(value), percent_text(value)
                self.ctx.warn("KPI0220", f"a percent compared with the plain number {shown}, which is {pct}",
                              side.span, f"{shown} = {pct}", secondary=(Label(other.span, "a percent"),),
                              help=f"write `{shown}%` if {shown} percent is meant")

    def lits(self, e: ast.Binary) -> tuple[bool, bool]:
        return is_literal_number(e.left), is_literal_number(e.right)

    def arith(self, e: ast.Binary, lt: str, rt: str) -> str | None:
        if e.op in ARITH:
            out = units.add(lt, rt, *self.lits(e))
            if out is None:
                self.both("KPI0202", f"cannot {'add' if e.op == '+' else 'subtract'} "
                          f"{rt} {'to' if e.op == '+' else 'from'} {lt}", e, lt, rt,
                          help="both sides of + and - must have the same unit")
            return out
        if e.op == "*":
            out = units.multiply(lt, rt)
            if out is None:
                self.both("KPI0203", f"cannot multiply {lt} by {rt}", e, lt, rt,
                          help="multiply an amount by a rate (percent or number)")
            return out
        out = units.divide(lt, rt)
        if out is None:
            self.both("KPI0204", f"cannot divide {lt} by {rt}", e, lt, rt)
        return out

    def both(self, code: str, msg: str, e: ast.Binary, lt: str, rt: str,
             help: str | None = None) -> None:
        if self.report:
            self.ctx.err(code, msg, e.left.span, lt, secondary=(Label(e.right.span, rt),),
                         help=help)

    def membership(self, e: ast.InWindow | ast.InList) -> str:
        t = self.infer(e.expr)
        if isinstance(e, ast.InWindow):
            if t is not None and t != "date":
                self.err("KPI0208", f"a time window needs a date, not {t}", e.expr, t,
                         help="test a date field, e.g. `deal.signed_on in period`")
            return "bool"
        for item in e.items:
            it = self.infer(item)
            if t is not None and it is not None and not units.comparable(
                t, it, False, is_literal_number(item), "=="
            ):
                self.err("KPI0219", f"list item is {it}, the tested value is {t}", item, it)
        return "bool"

    def fallback(self, e: ast.Fallback) -> str | None:
        t, ft = self.infer(e.expr), self.infer(e.fallback)
        if t is None or ft is None:
            return t
        lits = (is_literal_number(e.expr), is_literal_number(e.fallback))
        if units.add(t, ft, *lits) is None and t != ft:
            self.err("KPI0216", f"the fallback is {ft} but the value is {t}", e.fallback, ft,
                     help=f"give a {t} fallback")
        return t

    def common(self, exprs: list[ast.Expr], code: str,
               types: list[str | None] | None = None) -> str | None:
        """The shared type of alternatives (table entries, band values, min/max args).

        ``types``, when given, are the alternatives' types already inferred (inferring
        again would take time exponential in the nesting of ``min(min(...), ...)``).
        """
        out: str | None = None
        first: ast.Expr | None = None
        for i, x in enumerate(exprs):
            t = self.infer(x) if types is None else types[i]
            if t is None:
                continue
            if out is None or (out == "number" and t in units.NUMERIC and first is not None
                               and is_literal_number(first)):
                out, first = t, x
            elif t != out and not (t == "number" and is_literal_number(x)):
                self.err(code, f"this is {t}, but the others are {out}", x, t,
                         help="all alternatives must have the same type")
        return out

    # -- calls and aggregates ----------------------------------------------

    def call(self, e: ast.Call) -> str | None:
        args = [self.infer(a) for a in e.args]
        if e.func == "attainment":
            return "percent"
        if e.func in ("target", "prior"):
            return args[0] if args else None
        if e.func in ("min", "max", "abs"):
            out = self.common(list(e.args), "KPI0214", args)
            if out is not None and out not in units.NUMERIC | {"date"}:
                self.err("KPI0214", f"`{e.func}` needs numbers, not {out}", e, out)
            return out
        d = self.scope.visible.get(e.func)
        if isinstance(d, ast.Table):
            if args and args[0] not in (None, "text"):
                self.err("KPI0209", f"a table is keyed by text, not {args[0]}", e.args[0],
                         str(args[0]))
            return self.callable_type(d)
        if isinstance(d, ast.Tiers):
            return self.tiers_call(d, e, args[0] if args else None)
        return None

    def tiers_call(self, d: ast.Tiers, e: ast.Call, arg: str | None) -> str | None:
        if d.mode in ("lookup", "interpolated") and arg is not None:
            on = attrs.evolve(self, report=False).infer(d.on)
            if on is not None and not units.comparable(on, arg, False, False, "<"):
                self.err("KPI0218", f"`{d.name}` is on {on}, not {arg}", e.args[0], arg,
                         help="pass the tiers' input, like its `on` expression")
        if d.mode in ("step", "marginal") and arg is not None and arg not in units.NUMERIC:
            self.err("KPI0218", f"`{d.name}` applies its rates to a number, not {arg}",
                     e.args[0], arg)
            return None
        return self.callable_type(d, arg)

    def aggregate(self, e: ast.Aggregate) -> str | None:
        if e.where is not None:
            self.expect_bool(e.where, self.infer(e.where))
        t = self.infer(e.expr) if e.expr is not None else None
        if e.func in ("count", "count_distinct"):
            return "count"
        if t is None:
            return None
        allowed = units.NUMERIC if e.func in ("sum", "avg") else units.NUMERIC | {"date"}
        if t not in allowed:
            assert e.expr is not None
            self.err("KPI0212", f"cannot {e.func} {t} values", e.expr, t,
                     help="aggregate a numeric field, or use `count distinct` for text")
            return None
        return t
