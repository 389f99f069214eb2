"""Where a console keeps its data: the home directory and the database URL."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "MOBILE_CONSOLE_HOME"
DB_ENV = "MOBILE_CONSOLE_DB"
DB_FILENAME = "console.db"


@dataclass(frozen=True)
class Location:
    """A home directory and the database URL the console uses with it."""

    home: Path
    db_url: str


def default_home() -> Path:
    # imported here: a command given its home (--home, MOBILE_CONSOLE_HOME)
    # does without it, 3-10 ms before `job run` can start its host
    import platformdirs

    return Path(platformdirs.user_data_dir("mobile-console", appauthor=False))


def resolve(home: str | os.PathLike[str] | None = None, db_url: str | None = None) -> Location:
    """Home from the argument, else MOBILE_CONSOLE_HOME, else the platform's
    user data directory; database from the argument, else MOBILE_CONSOLE_DB,
    else a SQLite file in the home. An empty argument (an unset shell
    variable, say) is refused, not taken for the default."""
    from console.core.errors import ConsoleError

    for given, flag in ((home, "--home"), (db_url, "--db")):
        if given is not None and not str(given).strip():
            raise ConsoleError(f"{flag} is empty; give it a value, or leave it out for the default")
    chosen = Path(home or os.environ.get(HOME_ENV) or default_home()).expanduser().absolute()
    url = db_url or os.environ.get(DB_ENV) or f"sqlite:///{chosen / DB_FILENAME}"
    return Location(home=chosen, db_url=url)


def make_home(home: Path) -> None:
    """Create the home (0700: the logs and the database are the user's
    alone), or say in one line why it cannot be."""
    from console.core.errors import ConsoleError

    for above in [home, *home.parents]:
        if above.exists() and not above.is_dir():
            raise ConsoleError(f"the home {home} cannot be used: {above} is a file, not a folder")
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise ConsoleError(f"cannot create the home {home}: {e.strerror}") from None


def looser_than_private(home: Path, db_file: str | None) -> str | None:
    """A warning, with the fix, when other users can read the home or the
    database (a home made before the console made it 0700, or by hand)."""
    import stat

    loose: list[str] = []
    fixes: list[str] = []
    try:
        if stat.S_IMODE(home.stat().st_mode) & 0o077:
            loose.append(f"the home {home} (mode {stat.S_IMODE(home.stat().st_mode):o})")
            fixes.append(f"chmod 700 {home}")
        if db_file is not None:
            files = [Path(db_file + suffix) for suffix in ("", "-wal", "-shm")]
            open_ = [f for f in files if f.exists() and stat.S_IMODE(f.stat().st_mode) & 0o077]
            if open_:
                loose.append(", ".join(f.name for f in open_))
                fixes.append("chmod 600 " + " ".join(str(f) for f in open_))
    except OSError:
        return None
    if not loose:
        return None
    return (
        f"warning: other users of this machine can read {' and '.join(loose)}: "
        f"run {' && '.join(fixes)}"
    )


def create_private_file(path: str) -> None:
    """Create an empty file that only its owner can read, if it is missing:
    SQLite then gives its -wal and -shm files the same mode, so the logs are
    private from their first byte."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def refuse_foreign_file(path: str | None) -> None:
    """A file that is there and not a SQLite database (another program's, or
    a stray byte) is refused before SQLite may write over it; an empty file
    is a new database. Never while this process has a connection to it:
    closing the file here would drop that connection's locks."""
    if path is None:
        return
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return  # absent (made anew), or SQLite says why it cannot open it
    if head and head != b"SQLite format 3\x00":
        from console.core.errors import ConsoleError

        raise ConsoleError(
            f"{path} is not a database SQLite made (another program's file?); it was left as it is"
        )
