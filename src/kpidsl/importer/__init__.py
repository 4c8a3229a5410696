"""Importing data from spreadsheets, CSV, JSON and Parquet by a mapping file; validating folders.

    result, problems = import_mapping(Path("import/mapping.toml"))
    write(result, Path("data"), force=False)

Readers produce :class:`kpidsl.data.model.RawTable` values (text cells with
their file and line); heavy libraries (openpyxl, pyarrow) are imported only
when a source needs them. See docs/migration.md.
"""

from __future__ import annotations

import importlib
from typing import Any

# Public names and the module defining each: imported on first use, so that
# ``kpidsl.importer.cli`` (loaded by every ``kpidsl`` command) stays light.
_WHERE = {
    "read_xlsx": "excel", "read_frame": "frames", "read_parquet": "frames",
    "Mapping": "mapping", "NumberFormat": "mapping", "Source": "mapping",
    "load_mapping": "mapping", "parse_mapping": "mapping", "Problem": "problems",
    "read_csv": "readers", "read_json": "readers", "read_jsonl": "readers",
    "ImportResult": "run", "SourceReport": "run", "import_mapping": "run", "run_import": "run",
    "write": "run", "ValidateResult": "validate", "validate_generic": "validate",
    "validate_with_plan": "validate",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "ImportResult",
    "Mapping",
    "NumberFormat",
    "Problem",
    "Source",
    "SourceReport",
    "ValidateResult",
    "import_mapping",
    "load_mapping",
    "parse_mapping",
    "read_csv",
    "read_frame",
    "read_json",
    "read_jsonl",
    "read_parquet",
    "read_xlsx",
    "run_import",
    "validate_generic",
    "validate_with_plan",
    "write",
]
