"""Does a JavaScript job script compile? Asked of the engine that runs it
(V8, through mini-racer), so the editor, `job create` and `job script --set`
say exactly what a run would."""

from __future__ import annotations

import re
from dataclasses import dataclass

# "job.js:3: SyntaxError: Unexpected token ';'" is V8's first line.
_FIRST_LINE = re.compile(r"^.*?:(\d+): (.*)$")
#: Put before the script on its own first line: V8 parses the whole script
#: (every syntax error is an early error) and then stops at once, so no line
#: of the script runs and line numbers stay the script's own.
_STOP = "throw 0;"


@dataclass(frozen=True)
class JsSyntaxError:
    line: int
    message: str


def javascript_syntax_error(source: str) -> JsSyntaxError | None:
    """The engine's message and line when `source` does not compile, else None."""
    from py_mini_racer import JSEvalException, JSParseException, MiniRacer

    with MiniRacer() as ctx:
        try:
            ctx.eval(_STOP + source + "\n//# sourceURL=job.js")
        except JSParseException as e:
            return _parse(str(e))
        except JSEvalException:
            return None  # the `throw 0` itself: it compiled
    return None


def _parse(text: str) -> JsSyntaxError:
    first = text.strip().splitlines()[0] if text.strip() else "SyntaxError"
    match = _FIRST_LINE.match(first)
    if match is None:
        return JsSyntaxError(1, first)
    return JsSyntaxError(int(match.group(1)), match.group(2))
