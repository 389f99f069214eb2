"""The command line: `mobile-console …`, on the same core as the window.

One module per command group (`table`, `job`, `runs`, `settings`,
`redirect`, `worker`, `desktop`), each declaring its own words; `parser`
builds the one parser from them, `output` prints, and `program` runs a
command. Exit status: 0 success, 1 a job run failed, 2 bad input (one line
on stderr, nothing changed).
"""

from console.cli.program import main, run

__all__ = ["main", "run"]
