"""The console's core: everything but the window, usable from the command
line and by a worker. Nothing in it imports Qt.

Six packages by idea, each allowed to import only those below it
(pyproject.toml's `[tool.importlinter]` checks it; docs/architecture.md
draws it):

    scheduling   when jobs run: the scheduler, retries, alerts, workers
    running      how one run runs: the runner and the child process
    jobs         jobs, their runs, logs and leases, as records
    tables       user tables: catalogue, the script API, browsing
    config       settings, app settings and secrets, masking, redirects
    store        the database: engine, schema, migrations, change events

and the leaves every part may use: `errors`, `clock`, `paths` (where a
console keeps its data), `names` (validation of names users give),
`resources` (the product's bundled files) and `formatting` (values as
people read them).
"""
