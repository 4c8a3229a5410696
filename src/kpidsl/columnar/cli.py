"""``kpidsl cache [--clear] [--format text|json]``: where the columnar stage keeps typed
fact files and check results between runs, what it holds, and clearing it.

Exit codes: 0; 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT_OK = 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``cache`` subcommand."""
    p = sub.add_parser("cache", help="show or clear the cache of typed fact files and checks")
    p.add_argument("--clear", action="store_true", help="remove every entry")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``kpidsl cache`` (needs no DuckDB)."""
    from .cache import cache_root, clear, max_bytes, summary

    root = cache_root()
    removed = clear(root) if root is not None and args.clear else 0
    info = summary(root) if root is not None else None
    if args.format == "json":
        data = {"enabled": root is not None, "folder": str(root) if root else None,
                "max_bytes": max_bytes(), "removed": removed,
                "typed_copies": info.copies if info else 0, "typed_bytes": info.copy_bytes if info else 0,
                "check_results": info.checks if info else 0, "check_bytes": info.check_bytes if info else 0}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return EXIT_OK
    if info is None:
        print("cache: off (KPIDSL_CACHE=off): every run types and checks its fact files")
        return EXIT_OK
    if args.clear:
        print(f"removed {removed} file(s)")
    print(f"cache: {info.root}")
    print(f"  typed copies: {info.copies} ({_mb(info.copy_bytes)})")
    print(f"  check results: {info.checks} ({_mb(info.check_bytes)})")
    print(f"  size limit: {_mb(max_bytes())} (KPIDSL_CACHE_MAX_MB); KPIDSL_CACHE=off turns it off")
    return EXIT_OK


def _mb(n: int) -> str:
    return f"{n / (1 << 20):,.1f} MB"
