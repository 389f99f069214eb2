"""Drafts of unsaved scripts: private, one per job, read back once."""

from __future__ import annotations

import stat
from pathlib import Path

from console.core.jobs.drafts import Drafts


def test_a_draft_is_private_and_read_back(home: Path) -> None:
    drafts = Drafts(home)
    path = drafts.keep("getUpdates", "def getUpdates():\n    pass\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(drafts.folder.stat().st_mode) == 0o700
    assert drafts.names() == ["getupdates"]
    kept = drafts.get("GETUPDATES")
    assert kept is not None and kept[0] == "def getUpdates():\n    pass\n"
    drafts.drop("getUpdates")
    assert drafts.get("getUpdates") is None and drafts.names() == []
