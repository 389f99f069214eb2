"""User tables, as the portal had them: the catalogue of tables and their
columns (`catalogue`), the values a column holds (`values`), the DDL
SQLAlchemy lacks (`ddl`), the job script API over a table (`api`: `Table`
and the chainable `Query`, with `conditions` for `where`), inserts at driver
speed (`bulk_insert`) and the grid's keyset paging (`browse`).

May import: `store` and the leaves. Not `config` (its sibling), nor anything
above.
"""
