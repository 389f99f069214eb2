"""The one place that finds the product's resources."""

from __future__ import annotations

import pytest

from console.core.jobs.job_store import load_template, template_names
from console.core.resources import MissingResourceError, resource


def test_finds_the_theme_icons_and_templates() -> None:
    assert "$accent" in resource("theme.qss").read_text("utf-8")
    assert resource("icons", "app.svg").read_bytes().lstrip().startswith(b"<")
    assert "getUpdates" in template_names()
    assert "def renamed(" in load_template("getUpdates", "renamed")


@pytest.mark.parametrize("parts", [("nothing.qss",), ("icons", "nothing.svg")])
def test_a_missing_resource_names_itself_in_one_line(parts: tuple[str, ...]) -> None:
    with pytest.raises(MissingResourceError) as raised:
        resource(*parts)
    message = str(raised.value)
    assert f"{'/'.join(parts)} is missing" in message and "reinstall" in message
    assert "\n" not in message


def test_the_bundle_finds_them_in_its_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from pathlib import Path

    bundle = Path(str(tmp_path))
    (bundle / "resources").mkdir()
    (bundle / "resources" / "theme.qss").write_text("QWidget {}")
    monkeypatch.setattr("sys._MEIPASS", str(bundle), raising=False)
    assert resource("theme.qss") == bundle / "resources" / "theme.qss"
    with pytest.raises(MissingResourceError):
        resource("templates")
