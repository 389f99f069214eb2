"""User tables, as in the portal: created by name, with system columns and a
schema that grows as rows with new properties arrive.

The names other code imports, gathered from the modules that hold them:
values (`table_values`), the catalogue (`table_catalogue`), the script API
(`table_api`), the bulk insert (`bulk_insert`) and the DDL (`table_ddl`).
"""

from console.core.tables.api import Query, Table
from console.core.tables.bulk_insert import bulk_insert
from console.core.tables.catalogue import TableStore
from console.core.tables.ddl import AddColumn
from console.core.tables.values import (
    INT64_MAX,
    INT64_MIN,
    KINDS,
    SYSTEM_COLUMNS,
    ColumnInfo,
    TableInfo,
    check_column,
    check_value,
    kind_of,
    parse_text,
)

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "KINDS",
    "SYSTEM_COLUMNS",
    "AddColumn",
    "ColumnInfo",
    "Query",
    "Table",
    "TableInfo",
    "TableStore",
    "bulk_insert",
    "check_column",
    "check_value",
    "kind_of",
    "parse_text",
]
