"""The bundle's entry point: the CLI (which opens the window with no command,
and runs job scripts when started as `__script-host__`)."""

from console.cli import run

run()
