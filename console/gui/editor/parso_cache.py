"""jedi's disk cache (parso's pickles of parsed modules), made safe for the
editor's helper process.

parso writes each cache file in place and fails on a truncated one
(davidhalter/jedi#1891, #1807, #2067): a helper ended while it wrote (the
window closed as jedi warmed up, or the console's process died) or two
consoles warming up at once would leave a file that breaks completion
for good, in every tool that uses jedi on this machine. `guard()` makes
each write a whole file renamed into place, and an unreadable file a cache
miss. It replaces two private functions of `parso.cache` (0.8), as no
public setting does this; in the helper process only, never the window's.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from typing import Any


def guard() -> None:
    """Install the whole-file writes and the forgiving reads."""
    from parso import cache

    read = cache._load_from_file_system

    def save_whole(hashed_grammar: str, path: Any, item: Any, cache_path: Any = None) -> None:
        target = cache._get_hashed_path(hashed_grammar, path, cache_path=cache_path)
        fd, partial = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as file:
                pickle.dump(item, file, pickle.HIGHEST_PROTOCOL)
            os.replace(partial, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise

    def read_or_miss(hashed_grammar: str, path: Any, p_time: Any, cache_path: Any = None) -> Any:
        try:
            return read(hashed_grammar, path, p_time, cache_path=cache_path)
        except Exception:  # truncated or foreign: parse the module again
            return None

    cache._save_to_file_system = save_whole
    cache._load_from_file_system = read_or_miss
