"""The data diagnostic codes (KPI07xx) and their titles, documented in docs/diagnostics/_data.md."""

from __future__ import annotations

FOLDER_NOT_FOUND = "KPI0700"
UNDECODABLE = "KPI0701"
ENCODING_DETECTED = "KPI0702"
BAD_HEADER = "KPI0703"
DUPLICATE_COLUMN = "KPI0704"
RAGGED_ROW = "KPI0705"
MISSING_COLUMN = "KPI0706"
EXTRA_COLUMNS = "KPI0707"
UNUSED_TABLE = "KPI0708"
UNSUPPORTED_PYTHON_VALUE = "KPI0709"
INVALID_VALUE = "KPI0710"
EMPTY_REQUIRED = "KPI0711"
PERCENT_WITHOUT_SIGN = "KPI0712"
MALFORMED_CSV = "KPI0713"
MISSING_FILE = "KPI0714"
NOT_READ = "KPI0715"
MISNAMED_FILE = "KPI0716"
CASE_MISMATCH = "KPI0717"
DUPLICATE_KEY = "KPI0720"
UNKNOWN_PAYEE = "KPI0721"
DANGLING_REFERENCE = "KPI0722"
UNKNOWN_MANAGER = "KPI0723"
MANAGER_CYCLE = "KPI0724"
BAD_HISTORY_ATTRIBUTE = "KPI0725"
NOTHING_TO_REPLACE = "KPI0726"
NOTHING_TO_REMOVE = "KPI0727"
UNKNOWN_METRIC = "KPI0730"
WRONG_GRANULARITY = "KPI0731"
UNKNOWN_INPUT = "KPI0732"
UNKNOWN_COMPONENT = "KPI0733"
UNKNOWN_CREDIT_KIND = "KPI0740"
UNKNOWN_CREDIT_FACT = "KPI0741"
SPLIT_NOT_100 = "KPI0742"
SHARE_OUT_OF_RANGE = "KPI0743"

TITLES: dict[str, str] = {
    FOLDER_NOT_FOUND: "data folder not found",
    UNDECODABLE: "file is not UTF-8 text",
    ENCODING_DETECTED: "file read as GB18030",
    BAD_HEADER: "missing or empty header",
    DUPLICATE_COLUMN: "duplicate column name",
    RAGGED_ROW: "row has more or fewer cells than the header",
    MISSING_COLUMN: "required column missing",
    EXTRA_COLUMNS: "columns ignored",
    UNUSED_TABLE: "table not used by the plan",
    UNSUPPORTED_PYTHON_VALUE: "unsupported Python value",
    INVALID_VALUE: "invalid value",
    EMPTY_REQUIRED: "empty required value",
    PERCENT_WITHOUT_SIGN: "ambiguous percent",
    MALFORMED_CSV: "malformed CSV",
    MISSING_FILE: "data file missing",
    NOT_READ: "file in the data folder not read",
    MISNAMED_FILE: "file name differs only in letter case",
    CASE_MISMATCH: "text differs from the plan's literal only in case or spaces",
    DUPLICATE_KEY: "duplicate key",
    UNKNOWN_PAYEE: "unknown payee",
    DANGLING_REFERENCE: "reference to a missing fact",
    UNKNOWN_MANAGER: "unknown manager",
    MANAGER_CYCLE: "cycle in the manager hierarchy",
    BAD_HISTORY_ATTRIBUTE: "attribute cannot have a history",
    NOTHING_TO_REPLACE: "replaced fact not in the data",
    NOTHING_TO_REMOVE: "removed fact not in the data",
    UNKNOWN_METRIC: "target for an unknown metric",
    WRONG_GRANULARITY: "period of the wrong granularity",
    UNKNOWN_INPUT: "value for an undeclared input",
    UNKNOWN_COMPONENT: "payment for an unknown payout component",
    UNKNOWN_CREDIT_KIND: "credit for an unknown fact kind",
    UNKNOWN_CREDIT_FACT: "credit for an unknown fact",
    SPLIT_NOT_100: "split shares do not sum to 100%",
    SHARE_OUT_OF_RANGE: "credit share out of range",
}
