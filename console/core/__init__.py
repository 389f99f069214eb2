"""The console's core: storage, user tables, jobs, runner, scheduler, secrets.

Nothing in this package imports Qt; the command line and the window both
stand on it.
"""
