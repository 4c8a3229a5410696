"""Cycles in the definition dependency graph (KPI0122), per scope."""

from __future__ import annotations

from collections.abc import Iterable

from kpidsl import ast
from kpidsl.check.context import Ctx, Scope, children, definition_exprs, head_span
from kpidsl.diagnostics import Label


def dependencies(d: ast.Definition, visible: dict[str, ast.Definition]) -> list[str]:
    """Keys a definition reads; ``prior(c)`` reads earlier periods, so it is no edge."""
    return [k for k in raw_dependencies(d) if k in visible]


def raw_dependencies(d: ast.Definition) -> list[str]:
    """Every key a definition reads, deduplicated in order, visible or not."""
    out: list[str] = []
    if isinstance(d, ast.Score):
        for line in d.lines:
            out += [line.ref, f"target:{line.ref}"]
    for e in definition_exprs(d):
        out += expr_deps(e)
    return list(dict.fromkeys(out))


def expr_deps(e: ast.Expr) -> list[str]:
    if isinstance(e, ast.Name):
        return [e.name]
    if isinstance(e, ast.Call):
        if e.func == "prior":
            return []
        if e.func in ("attainment", "target"):
            names = [a.name for a in e.args if isinstance(a, ast.Name)]
            return names + [f"target:{n}" for n in names]
        out = [e.func]
        for a in e.args:
            out += expr_deps(a)
        return out
    out = []
    for c in children(e):
        out += expr_deps(c)
    return out


def cycles_pass(ctx: Ctx) -> None:
    """Report each cycle once, naming it ``a -> b -> a`` with a label at every step.

    An override scope reports only cycles through its own definitions, so only
    the part of its graph reachable from them is built: the pass stays linear
    in the number of blocks. Each definition's dependencies are computed once.
    """
    seen: set[frozenset[str]] = set()
    raw: dict[int, list[str]] = {}
    for scope in ctx.scopes:
        graph = scope_graph(scope, raw)
        for comp in strongly_connected(graph):
            cyclic = len(comp) > 1 or comp[0] in graph[comp[0]]
            if not cyclic or frozenset(comp) in seen:
                continue
            if scope.block is not None and not any(k in scope.own for k in comp):
                continue
            seen.add(frozenset(comp))
            report(ctx, scope, find_cycle(graph, comp, scope.visible))


def scope_graph(scope: Scope, raw: dict[int, list[str]]) -> dict[str, list[str]]:
    """Visible edges of the keys reachable from the scope's roots (all keys for the base)."""
    visible = scope.visible
    roots = list(visible) if scope.block is None else list(scope.own)
    graph: dict[str, list[str]] = {}
    todo = roots[::-1]
    while todo:
        key = todo.pop()
        if key in graph:
            continue
        d = visible[key]
        deps = raw.get(id(d))
        if deps is None:
            deps = raw[id(d)] = raw_dependencies(d)
        succ = graph[key] = [k for k in deps if k in visible]
        todo.extend(k for k in reversed(succ) if k not in graph)
    return graph


def strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative, deterministic in the graph's insertion order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            succ = graph[node]
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                out.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def find_cycle(
    graph: dict[str, list[str]], comp: list[str], order: Iterable[str] | None = None
) -> list[str]:
    """The shortest cycle through the component's first node in ``order`` (default: graph's)."""
    members = set(comp)
    start = next(k for k in (graph if order is None else order) if k in members)
    parent: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in graph[node]:
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return path[::-1]
            if nxt in members and nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return [start]


def show(key: str) -> str:
    return f"target {key[7:]}" if key.startswith("target:") else key


def report(ctx: Ctx, scope: Scope, cycle: list[str]) -> None:
    text = " -> ".join(show(k) for k in [*cycle, cycle[0]])
    defs = [scope.visible[k] for k in cycle]
    steps = [f"`{show(cycle[i])}` uses `{show(cycle[(i + 1) % len(cycle)])}`"
             for i in range(len(cycle))]
    ctx.err("KPI0122", f"definitions depend on each other in a cycle: {text}",
            head_span(defs[0]), steps[0],
            secondary=tuple(Label(head_span(d), s) for d, s in zip(defs[1:], steps[1:], strict=False)),
            help="break the cycle: one of these must be computed without the others "
                 "(use `prior(c)` to read a component's earlier periods)")
