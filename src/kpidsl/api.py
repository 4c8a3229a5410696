"""The public Python API: load a plan, load data, evaluate, explain.

    plan = kpidsl.load("plan.kpi")
    data = kpidsl.load_data("data/")
    result = plan.evaluate(data, period="2026-Q3")
    print(result.explain("alice", "commission"))
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from kpidsl.diagnostics import Diagnostic, KpiError, has_errors
from kpidsl.explain.tree import Explanation
from kpidsl.model import PlanModel
from kpidsl.source import SourceFile

if TYPE_CHECKING:
    from pydantic import BaseModel


class PlanError(KpiError):
    """A plan that does not parse or check; ``diagnostics`` lists every problem."""

    def __init__(self, diagnostics: Sequence[Diagnostic], sources: Mapping[str, SourceFile]):
        super().__init__(list(diagnostics))
        self.sources = dict(sources)

    def render(self, color: bool = False) -> str:
        from kpidsl.render import render_text

        return render_text(self.diagnostics, self.sources, color=color)


def _digest(sources: Mapping[str, SourceFile]) -> str:
    h = hashlib.sha256()
    for name in sorted(sources):
        # surrogatepass: a str may hold a lone surrogate (no UTF-8 file can); it must not crash
        text = sources[name].text
        h.update(name.encode("utf-8", "surrogatepass") + b"\0" + text.encode("utf-8", "surrogatepass") + b"\0")
    return "sha256:" + h.hexdigest()


@attrs.frozen
class RawData:
    """Data as read from files or Python objects, not yet typed by a plan."""

    tables: Mapping[str, Any]
    diagnostics: tuple[Diagnostic, ...] = ()
    sources: Mapping[str, SourceFile] = attrs.field(factory=dict)
    # tables read from typed files (Parquet): table -> (shown name, column -> type), so that
    # a floating-point column the plan reads as a number is refused (KPI0753)
    types: Mapping[str, tuple[str, Mapping[str, str]]] = attrs.field(factory=dict)

    def diagnostics_for(self, model: PlanModel) -> list[Diagnostic]:
        """The reading diagnostics, and those that depend on what the plan reads."""
        if not self.types:
            return list(self.diagnostics)
        from kpidsl.columnar.sources import float_errors

        return [*self.diagnostics, *float_errors(model, self.types)]


def _records(name: str, value: Any) -> list[Mapping[str, Any]]:
    """A table's rows as a list (a generator is read once), or a TypeError saying what is wrong."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(f"load_data: table {name!r} must be a list of rows (dicts of field to value), "
                        f"not {type(value).__name__}")
    rows = list(value)
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise TypeError(f"load_data: row {index} of table {name!r} must be a dict of field to value, "
                            f"not {type(row).__name__}: {row!r}")
    return rows


class NeedsDuckDB(ModuleNotFoundError):
    """A Parquet folder, or ``engine="columnar"``, without DuckDB installed (``kpidsl[fast]``):
    the command line says so in one line, with the install command."""


def load_data(source: str | Path | Mapping[str, Any]) -> RawData:
    """Read a data folder (``payees.csv``, ``deals.csv``...) or a mapping of table -> rows.

    A mapping may hold, per table name, a list of dicts (Python objects) or a
    ``RawTable``. Rows are typed and validated against a plan at evaluation.
    """
    from kpidsl.data import csvread
    from kpidsl.data.model import RawTable

    if isinstance(source, Mapping):
        tables: dict[str, RawTable] = {}
        diags: list[Diagnostic] = []
        for name in sorted(source):
            value = source[name]
            if isinstance(value, RawTable):
                tables[name] = value
                continue
            table, ds = csvread.tables_from_records(name, _records(name, value))
            diags.extend(ds)
            if table is not None:
                tables[name] = table
        return RawData(tables, tuple(diags))
    folder = Path(source)
    if not folder.exists():
        raise FileNotFoundError(f"data folder not found: {folder}")
    if _parquet_folder(folder):
        return _parquet_data(folder)
    tables_read, diags = csvread.read_folder(folder)
    return RawData(tables_read, tuple(diags))


def _parquet_data(folder: Path) -> RawData:
    """A folder of Parquet files, read through DuckDB (cells as text, as from a CSV file)."""
    try:
        import duckdb  # noqa: F401
    except ImportError as e:
        raise NeedsDuckDB('reading Parquet data needs DuckDB: pip install "kpidsl[fast]"') from e
    from kpidsl.columnar.sources import (
        column_types,
        connect,
        find_sources,
        folder_tables,
        raw_table,
        unread,
    )

    con = connect()
    sources = find_sources(folder)
    tables = folder_tables(folder, sources, {n: raw_table(con, s) for n, s in sources.items()})
    types = {n: (s.display, column_types(con, s)) for n, s in sources.items()}
    return RawData(tables, tuple(unread(folder, sources)), types=types)


@attrs.frozen
class Plan:
    """A parsed and checked plan, ready to evaluate; immutable and thread-safe."""

    model: PlanModel
    sources: Mapping[str, SourceFile]
    digest: str
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def name(self) -> str:
        return self.model.header.name

    @property
    def version(self) -> str | None:
        return self.model.header.version

    def info(self) -> dict[str, str | None]:
        return {"name": self.name, "version": self.version, "digest": self.digest}

    def evaluate(
        self,
        data: RawData | str | Path | Mapping[str, Any],
        period: str,
        *,
        as_of: dt.date | None = None,
        payees: Iterable[str] | None = None,
        engine: str = "reference",
        explain: bool = False,
    ) -> Result:
        """Evaluate the plan for ``period``; data errors mean no payouts at all.

        ``engine``: ``reference`` (pure Python), ``columnar`` (the fact stage in
        DuckDB, ``pip install "kpidsl[fast]"``; a data folder only) or ``auto``
        (columnar for a large data folder when DuckDB is installed).
        ``explain``: build every payee's explanation trees now (True), or each
        payee's when first asked for (False, the default: faster when only the
        figures are read; the trees are the same either way).
        """
        from kpidsl.data.bind import bind
        from kpidsl.eval import evaluate

        if engine not in ("reference", "columnar", "auto"):
            raise ValueError(f"engine must be reference, columnar or auto, not {engine!r}")
        if not isinstance(period, str):
            raise TypeError(f"period must be a str such as '2026-Q3', not {type(period).__name__}")
        if as_of is not None and (not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime)):
            raise TypeError(f"as_of must be a datetime.date, not {type(as_of).__name__} {as_of!r}")
        if isinstance(payees, str):
            raise TypeError(f"payees must be a list of payee ids, not a str: payees=[{payees!r}]")
        # not a folder: read as the reference reads it (FileNotFoundError, or KPI0700 for a file)
        if isinstance(data, (str, Path)) and Path(data).is_dir() and (
                engine != "reference" or _parquet_folder(Path(data))):
            folder = self._evaluate_folder(Path(data), period, as_of, payees, engine, explain)
            if folder is not None:
                return folder
        raw = data if isinstance(data, RawData) else load_data(data)
        dataset, bind_diags = bind(self.model, raw.tables)
        data_diags = sorted([*raw.diagnostics_for(self.model), *bind_diags], key=Diagnostic.sort_key)
        names = {p.id: p.name for p in dataset.payees}
        if has_errors(data_diags):
            return Result(self, None, period, tuple(data_diags), dataset.digest, names)
        evaluated = evaluate(self.model, dataset, period, as_of=as_of, payees=payees, explain=explain)
        return Result(self, evaluated, period, tuple(data_diags), dataset.digest, names, dataset)

    def _evaluate_folder(
        self, folder: Path, period: str, as_of: dt.date | None,
        payees: Iterable[str] | None, engine: str, explain: bool = False,
    ) -> Result | None:
        """A data folder loaded through DuckDB: on the columnar stage, or (a folder of Parquet
        files, which only DuckDB reads) on the reference; None: read the CSV folder in Python."""
        from kpidsl.columnar import wants_columnar

        parquet = _parquet_folder(folder)
        if engine == "auto":
            engine = "columnar" if wants_columnar(self.model, folder) else "reference"
        if engine == "reference" and not parquet:
            return None
        try:
            import duckdb  # noqa: F401
        except ImportError as e:
            what = 'engine="columnar"' if engine == "columnar" else "reading Parquet data"
            raise NeedsDuckDB(f'{what} needs DuckDB: pip install "kpidsl[fast]"') from e
        if not folder.is_dir():
            raise FileNotFoundError(f"data folder not found: {folder}")
        return self.run_folder(folder, period, as_of=as_of, payees=payees, engine=engine, explain=explain)[0]

    def run_folder(
        self, folder: Path, period: str, *, as_of: dt.date | None = None,
        payees: Iterable[str] | None = None, engine: str = "columnar", explain: bool = False,
        every_field: bool = False,
    ) -> tuple[Result, Any]:
        """A data folder loaded through DuckDB (``pip install "kpidsl[fast]"``) and evaluated:
        the result and the ``kpidsl.columnar.ColumnarRun`` that computed it, which can
        explain payees later, add facts, or fetch a payee's facts (``fact_index``).
        ``every_field``: the facts fetched hold every field of the files, not only those the
        plan reads (``kpidsl.columnar.load_folder``)."""
        from kpidsl.columnar import ColumnarRun, load_folder

        # the period's aggregates are computed while the small tables load, unless explaining
        # (the explanations' aggregates are computed from the facts, not grouped)
        loaded = load_folder(self.model, folder, engine=engine, every_field=every_field,
                             period=None if explain else period, as_of=as_of)
        diags = tuple(sorted(loaded.diagnostics, key=Diagnostic.sort_key))
        names = {p.id: p.name for p in loaded.dataset.payees}
        digest = loaded.dataset.digest
        run = ColumnarRun(self.model, loaded, period, as_of=as_of)
        if has_errors(diags):
            return Result(self, None, period, diags, digest, names), run
        evaluated = run.evaluate(payees, explain=explain)
        bound = loaded.dataset if loaded.engine == "reference" else None  # columnar: facts stay in DuckDB
        return Result(self, evaluated, period, diags, digest, names, bound), run


def _parquet_folder(folder: Path) -> bool:
    """A data folder whose tables are Parquet files (every CSV file has a Parquet twin)."""
    from kpidsl.columnar.sources import find_sources

    if not folder.is_dir():
        return False
    sources = find_sources(folder)
    return bool(sources) and next(iter(sources.values())).format == "parquet"


def _from_modules(
    modules: Sequence[Any], sources: Mapping[str, SourceFile], diags: list[Diagnostic]
) -> Plan:
    from kpidsl.check import check

    if not has_errors(diags) and modules:
        model, check_diags = check(modules)
        diags = [*diags, *check_diags]
    else:
        model = None
    if model is None or has_errors(diags):
        raise PlanError(sorted(diags, key=Diagnostic.sort_key), sources)
    warnings = tuple(sorted(diags, key=Diagnostic.sort_key))
    return Plan(model, dict(sources), _digest(sources), warnings)


def load(path: str | Path) -> Plan:
    """Parse and check a plan file and the ``.kpi`` files it imports.

    Raises :class:`PlanError` listing every diagnostic when the plan has errors.
    """
    from kpidsl.syntax.loader import load_modules

    modules, sources, diags = load_modules(path)
    return _from_modules(modules, sources, list(diags))


def loads(text: str, name: str = "<string>") -> Plan:
    """Parse and check a plan given as text (no imports)."""
    from kpidsl.syntax.parser import parse_source

    if not isinstance(text, str):
        raise TypeError(f"loads() takes the plan text as str, not {type(text).__name__}; "
                        "decode bytes first (UTF-8)")
    # a byte order mark, kept by a file read as "utf-8" (Windows editors write one): as load() reads it
    text = text.removeprefix("\ufeff")
    module, diags = parse_source(text, name)
    sources = {name: SourceFile(name, text)}
    return _from_modules([module] if module is not None else [], sources, list(diags))


@attrs.frozen
class Result:
    """The outcome of one evaluation: per payee figures, errors, explanations."""

    plan: Plan
    evaluation: Any  # kpidsl.eval.result.EvalResult, or None when the data was rejected
    period: str
    data_diagnostics: tuple[Diagnostic, ...]
    data_digest: str
    names: Mapping[str, str] = attrs.field(factory=dict)  # payee id -> display name
    # the bound data the reference engine evaluated (kpidsl.data.model.Dataset: payees, facts,
    # targets...); None on the columnar engine, whose facts stay in DuckDB
    dataset: Any = attrs.field(default=None, repr=False, eq=False)

    @property
    def ok(self) -> bool:
        return self.evaluation is not None and bool(self.evaluation.ok)

    @property
    def payees(self) -> Mapping[str, Any]:
        """Each payee's result, by id (read-only; not copied: reading it in a loop is cheap)."""
        return MappingProxyType({} if self.evaluation is None else self.evaluation.payees)

    def _repr_html_(self) -> str:
        """Rich display in Jupyter: the result as a table of payees."""
        from kpidsl.report.notebook import result_html

        return result_html(self)

    def explain(self, payee: str, name: str = "total") -> Explanation:
        """The explanation tree of one named value (``total`` by default) of one payee."""
        if self.evaluation is None:
            raise KeyError("the data was rejected: there is nothing to explain")
        if payee not in self.evaluation.payees:
            raise KeyError(f"no payee {payee!r} in this result")
        expl: Mapping[str, Explanation] = self.evaluation.payees[payee].explanations
        if name not in expl:
            known = ", ".join(sorted(expl))
            raise KeyError(f"payee {payee!r} has no value {name!r}; known: {known}")
        return expl[name]

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data; every number is a decimal string."""
        from kpidsl.eval.result import result_to_dict
        from kpidsl.render import diagnostic_to_dict

        data_errors = [diagnostic_to_dict(d) for d in self.data_diagnostics]
        if self.evaluation is None:
            return {
                "plan": self.plan.info(),
                "data_digest": self.data_digest,
                "period": self.period,
                "payees": {},
                "errors": data_errors,
            }
        # JSON-ready as it is (texts, lists, None): not written out and read back (which took
        # as long as writing the result: 10,000 payees' values are a million lines)
        out = result_to_dict(self.evaluation, self.plan.info(), self.data_digest)
        if data_errors:
            out["data_warnings"] = data_errors
        return out

    def to_json(self, indent: int | None = 2) -> str:
        """``json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)``; with an indent,
        by :func:`kpidsl.jsonout.dumps` (the same text, three times faster)."""
        if indent is None:
            return json.dumps(self.to_dict(), ensure_ascii=False)
        from kpidsl.jsonout import dumps

        return dumps(self.to_dict(), indent)

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON schema of :meth:`to_json`'s output (that of ``kpidsl eval --format json``)."""
        return _json_model().model_json_schema()


@functools.cache
def _json_model() -> type[BaseModel]:
    """The pydantic model of :meth:`Result.to_dict`: the evaluation's
    (:class:`kpidsl.eval.schema.ResultModel`), whose ``errors`` are the data's diagnostics when
    the data was rejected, with ``data_warnings`` when the data had warnings. Built when asked
    for, so that evaluating imports no pydantic."""
    from typing import Literal

    from pydantic import BaseModel, ConfigDict, Field

    from kpidsl.eval.schema import ErrorModel, ResultModel

    class LabelModel(BaseModel):
        """A secondary label of a diagnostic."""

        model_config = ConfigDict(extra="forbid")
        file: str
        line: int
        col: int
        end_line: int
        end_col: int
        message: str

    class DiagnosticModel(BaseModel):
        """A data diagnostic (a rejected row, a warning), as ``kpidsl check --format json``."""

        model_config = ConfigDict(extra="forbid")
        code: str
        severity: Literal["error", "warning"]
        message: str
        file: str
        line: int
        col: int
        end_line: int
        end_col: int
        label: str
        labels: list[LabelModel]
        notes: list[str]
        help: str | None

    class EvalJsonModel(ResultModel):
        """The JSON shape of an evaluation result (``kpidsl schema``): ``payees`` is empty and
        ``errors`` lists the data's diagnostics when the data was rejected."""

        model_config = ConfigDict(extra="forbid", title="ResultModel")
        errors: list[ErrorModel | DiagnosticModel]  # type: ignore[assignment]
        data_warnings: list[DiagnosticModel] = Field(
            default_factory=list, description="the data's warnings; present only when there are some")

    return EvalJsonModel
