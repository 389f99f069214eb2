"""The database and what keeps it whole: the engine (`database`), the
console's own tables (`schema`) and their Alembic `migrations`, the change
events every write announces (`changes`), a run's log kept in a file while
the database is away (`spool`), a worker's view of an outage (`outage`),
database and disk faults said in one line (`faults`), and the cancel that
interrupts a query in flight (`cancel`).

May import: the core's leaves (`errors`, `clock`, `paths`, `names`,
`resources`, `formatting`) and nothing else of the core.
"""
