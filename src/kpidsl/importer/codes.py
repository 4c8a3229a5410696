"""Import diagnostic codes (KPI075x); the data codes (KPI07xx) are reused where they fit."""

from __future__ import annotations

from kpidsl.data import codes as data_codes

BAD_MAPPING = "KPI0750"
SOURCE_UNREADABLE = "KPI0751"
FLOAT_NOISE = "KPI0752"
FLOAT_COLUMN = "KPI0753"
DATE_SYSTEM = "KPI0754"
MERGED_CELL = "KPI0755"
MAPPING_KEY_UNUSED = "KPI0756"
HIDDEN_IN_EXCEL = "KPI0757"
HIDDEN_UNDER_MERGE = "KPI0758"
BARE_PERCENT = "KPI0759"

# Reused data codes.
INVALID_VALUE = data_codes.INVALID_VALUE
EMPTY_REQUIRED = data_codes.EMPTY_REQUIRED
MISSING_COLUMN = data_codes.MISSING_COLUMN
EXTRA_COLUMNS = data_codes.EXTRA_COLUMNS
BAD_HEADER = data_codes.BAD_HEADER
DUPLICATE_COLUMN = data_codes.DUPLICATE_COLUMN
DUPLICATE_KEY = data_codes.DUPLICATE_KEY
UNKNOWN_PAYEE = data_codes.UNKNOWN_PAYEE
DANGLING_REFERENCE = data_codes.DANGLING_REFERENCE
UNKNOWN_MANAGER = data_codes.UNKNOWN_MANAGER
MANAGER_CYCLE = data_codes.MANAGER_CYCLE
UNKNOWN_CREDIT_FACT = data_codes.UNKNOWN_CREDIT_FACT
SPLIT_NOT_100 = data_codes.SPLIT_NOT_100
RAGGED_ROW = data_codes.RAGGED_ROW
MALFORMED_CSV = data_codes.MALFORMED_CSV
PERCENT_WITHOUT_SIGN = data_codes.PERCENT_WITHOUT_SIGN

TITLES: dict[str, str] = {
    BAD_MAPPING: "invalid import mapping",
    SOURCE_UNREADABLE: "import source cannot be read",
    FLOAT_NOISE: "number with floating-point noise",
    FLOAT_COLUMN: "floating-point column",
    DATE_SYSTEM: "workbook on the 1904 date system",
    MERGED_CELL: "cell left empty by a merged range",
    MAPPING_KEY_UNUSED: "mapping key without effect",
    HIDDEN_IN_EXCEL: "hidden row or column imported",
    HIDDEN_UNDER_MERGE: "value hidden under a merged range",
    BARE_PERCENT: "number without % in a percent column",
}
