"""The console as a user installs it: `python -m build` makes the sdist and
the wheel, the wheel goes into a fresh virtualenv (its dependencies from the
project's .venv, no registry), and everything runs from an empty folder with
the source tree out of reach. The release is built once for the module."""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from console.demo.twitter_standin import TwitterStandIn
from tests.conftest import need
from tests.integration.test_window_process import start_window

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
# What a checkout holds that is not the source: left out of the copy we build from.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".*_cache", "out"
)


@dataclass(frozen=True)
class Release:
    sdist: Path
    wheel: Path  # built from the sdist, as `python -m build` does
    direct_wheel: Path  # built straight from the source tree


def _build(source: Path, out: Path, *what: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", *what, "--outdir", str(out), "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    work = tmp_path_factory.mktemp("release")
    # A copy, so the builds leave nothing in the checkout (build/, egg-info).
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    _build(source, work / "dist")
    _build(source, work / "direct", "--wheel")
    (sdist,) = (work / "dist").glob("*.tar.gz")
    (wheel,) = (work / "dist").glob("*.whl")
    (direct,) = (work / "direct").glob("*.whl")
    return Release(sdist, wheel, direct)


@dataclass(frozen=True)
class Installed:
    """The wheel installed in a fresh virtualenv, run from an empty folder."""

    venv: Path
    empty: Path

    @property
    def command(self) -> Path:
        return self.venv / "bin" / "mobile-console"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return {**env, **extra}

    def run(self, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.command), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.empty,
            env=self.env(**env),
        )

    def python(self, code: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", code, *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.empty,
            env=self.env(**env),
        )


@pytest.fixture(scope="module")
def installed(release: Release, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("installed")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")),
            *("install", "--quiet", "--no-deps", "--no-index", str(release.wheel)),
        ],
        check=True,
        timeout=120,
    )
    # The dependencies come from the project's .venv: its site-packages is
    # added after the new one's (a path in a .pth file; the .venv's own .pth
    # files, the editable install among them, are not read from there).
    site = Path(
        subprocess.check_output(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))",
            ],
            text=True,
        ).strip()
    )
    (site / "project-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    empty = work / "empty"
    empty.mkdir()
    return Installed(venv, empty)


def _names(archive: Path) -> set[str]:
    if archive.suffix == ".whl":
        return set(zipfile.ZipFile(archive).namelist())
    with tarfile.open(archive) as tar:
        return {m.name.partition("/")[2] for m in tar.getmembers() if m.isfile()}


def _shipped_resources() -> list[str]:
    return sorted(
        str(p.relative_to(ROOT / "resources"))
        for p in (ROOT / "resources").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def test_the_sdist_and_the_wheel_carry_every_resource(release: Release) -> None:
    wheel, sdist = _names(release.wheel), _names(release.sdist)
    for name in _shipped_resources():
        assert f"console/resources/{name}" in wheel, name
        assert f"resources/{name}" in sdist, name
    assert "console/resources/theme.qss" in wheel  # what broke the window before
    # The sdist is the whole source release: tests, the bundle spec, the Makefile.
    assert {"Makefile", "setup.py", "build_spec/mobile-console.spec"} <= sdist
    assert "tests/integration/test_installed.py" in sdist
    assert not [n for n in wheel | sdist if "__pycache__" in n or n.endswith(".pyc")]


def test_the_wheel_built_from_the_sdist_is_the_same_product(release: Release) -> None:
    def contents(wheel: Path) -> dict[str, int]:
        with zipfile.ZipFile(wheel) as z:
            # RECORD lists the others with their hashes; the CRCs say the same.
            return {i.filename: i.CRC for i in z.infolist() if not i.filename.endswith("RECORD")}

    assert release.wheel.name == release.direct_wheel.name
    assert contents(release.wheel) == contents(release.direct_wheel)


def test_installed_outside_the_source_tree(installed: Installed) -> None:
    where = installed.python("import console, console.resources; print(console.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed.venv)
    version = installed.run("--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"mobile-console {VERSION}")
    # The editor's helper process starts from the installed copy, with its stub.
    helper = installed.python(HELPER_CHECK)
    assert (helper.returncode, helper.stdout.split()) == (0, ["where", "getTable(<b>name</b>)"])


HELPER_CHECK = """
from console.gui.editor.assist import Request
from console.gui.editor.assist_client import AssistProcess
helper = AssistProcess()
found = helper.complete(Request("tables.get_table('x').wh", 1, 24))
print(*[c.name for c in found.items])
print(helper.signature(Request("tables.getTable(", 1, 16, "javascript")).split("<br>")[0])
helper.close()
"""


def _templates() -> list[Path]:
    """Every job template the product ships, whatever its language."""
    return sorted(
        p
        for p in (ROOT / "resources" / "templates").iterdir()
        if p.is_file() and not p.name.startswith("__")
    )


def test_a_table_and_a_job_from_each_template(installed: Installed, home: Path) -> None:
    assert installed.run("--home", str(home), "table", "create", "Notes").returncode == 0
    tables = installed.run("--home", str(home), "table", "list", "--json")
    assert [t["name"] for t in json.loads(tables.stdout)] == ["Notes"]
    templates = _templates()
    assert "getUpdates.py" in [t.name for t in templates]
    jobs = {}
    for template in templates:
        job = re.sub(r"\W", "_", template.stem)
        made = installed.run(
            *("--home", str(home), "job", "create", job, "--every", "1", "--unit", "hour"),
            *("--template", template.stem),
        )
        assert made.returncode == 0, (template.name, made.stderr)
        jobs[job] = template
    listed = json.loads(installed.run("--home", str(home), "job", "list", "--json").stdout)
    assert sorted(j["name"] for j in listed) == sorted(jobs)
    for job, template in jobs.items():
        script = installed.run("--home", str(home), "job", "script", job)
        assert script.returncode == 0 and script.stdout.strip(), (template.name, script.stderr)
        if template.suffix == ".py":  # its entry point renamed after the job
            assert f"def {job}(" in script.stdout


@pytest.mark.keyring
def test_run_once_of_getupdates_against_the_standin(installed: Installed, home: Path) -> None:
    need(bool(os.environ.get("MOBILE_CONSOLE_TEST_KEYRING")), "no Secret Service session")
    with TwitterStandIn(seed=13) as standin:
        creds = standin.credentials
        create_job = ["job", "create", "getUpdates", "--every", "1", "--unit", "hour"]
        steps = [
            (["identity", "twitter"], f"{creds.consumer_key}\n{creds.consumer_secret}\n"),
            (["setting", "set", "TWITTER_ACCESS_TOKEN", "--secret"], creds.access_token),
            (
                ["setting", "set", "TWITTER_ACCESS_TOKEN_SECRET", "--secret"],
                creds.access_token_secret,
            ),
            (["setting", "set", "TWITTER_SEARCH_URL", standin.search_url], ""),
            (["table", "create", "Updates"], ""),
            ([*create_job, "--template", "getUpdates"], ""),
        ]
        for args, stdin in steps:
            done = installed.run("--home", str(home), *args, stdin=stdin)
            assert done.returncode == 0, (args, done.stderr)
        standin.publish(25)
        ran = installed.run("--home", str(home), "job", "run", "getUpdates")
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "Fetched 25 new results from Twitter" in ran.stdout
        rows = json.loads(
            installed.run("--home", str(home), "table", "rows", "Updates", "--json").stdout
        )
        assert rows and all(isinstance(r["twitterId"], int) for r in rows)


THEME_CHECK = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from console.gui import create_window
window = create_window(home=sys.argv[1])
window.show()
app.processEvents()
image = window.nav.grab().toImage()
print(image.pixelColor(image.width() - 2, image.height() - 2).name())
window.close()
print("closed")
"""


def test_the_window_opens_themed_and_closes_cleanly(
    installed: Installed, home: Path, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    window = start_window([str(installed.command)], home, config)
    assert window.poll() is None, window.communicate()[1]
    window.send_signal(signal.SIGTERM)
    _out, err = window.communicate(timeout=30)
    assert window.returncode == 0, err
    assert "Traceback" not in err
    assert "page=" in (config / "mobile-console" / "window.conf").read_text()

    # The theme is applied: the navigation bar is the theme's charcoal, not Qt's grey.
    themed = installed.python(THEME_CHECK, str(tmp_path / "home2"), QT_QPA_PLATFORM="offscreen")
    assert themed.returncode == 0, themed.stderr
    assert themed.stdout.split() == ["#2b2b2b", "closed"]


def _desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def _validate(path: Path) -> None:
    validator = shutil.which("desktop-file-validate")
    need(validator is not None, "no desktop-file-validate (Debian: desktop-file-utils)")
    assert validator
    done = subprocess.run([validator, str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    # It prints errors and warnings (hints are fine); there must be none.
    assert not re.search(r"\b(error|warning):", done.stdout), done.stdout


def test_desktop_entry_install_and_uninstall(installed: Installed, tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = installed.run("desktop-entry", "install", XDG_DATA_HOME=str(data))
    assert done.returncode == 0, done.stderr
    desktop = data / "applications" / "mobile-console.desktop"
    _validate(desktop)
    entry = _desktop_entry(desktop)
    assert entry["Exec"] == str(installed.command)
    icons = list((data / "icons" / "hicolor").glob(f"*/apps/{entry['Icon']}.*"))
    assert {p.parent.parent.name for p in icons} >= {"48x48", "256x256", "scalable"}

    done = installed.run("desktop-entry", "uninstall", XDG_DATA_HOME=str(data))
    assert done.returncode == 0, done.stderr
    assert not [p for p in data.rglob("*") if p.is_file()]


def test_autostart_enable_and_disable(installed: Installed, tmp_path: Path) -> None:
    config = tmp_path / "config"
    done = installed.run("autostart", "enable", XDG_CONFIG_HOME=str(config))
    assert done.returncode == 0, done.stderr
    autostart = config / "autostart" / "mobile-console.desktop"
    _validate(autostart)
    assert _desktop_entry(autostart)["Exec"] == f"{installed.command} --minimized"

    done = installed.run("autostart", "disable", XDG_CONFIG_HOME=str(config))
    assert done.returncode == 0, done.stderr
    assert not autostart.exists()


@pytest.mark.parametrize("args", [["desktop-entry", "add"], ["autostart", "on"], ["autostart"]])
def test_a_bad_verb_is_one_line_and_changes_nothing(
    installed: Installed, tmp_path: Path, args: list[str]
) -> None:
    xdg = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = installed.run(*args, **xdg)
    assert (done.returncode, done.stdout) == (2, "")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not list(tmp_path.iterdir())


@pytest.fixture
def broken(installed: Installed) -> Iterator[Path]:
    """The installed resources folder; what a test moves away comes back after."""
    where = installed.python("import console.resources as r; print(r.__file__)")
    folder = Path(where.stdout.strip()).parent
    before = sorted(folder.iterdir())
    yield folder
    for hidden in folder.glob("*.hidden"):
        hidden.rename(hidden.with_suffix(""))
    assert sorted(folder.iterdir()) == before


def test_a_missing_resource_is_one_line_naming_it(
    installed: Installed, broken: Path, home: Path, tmp_path: Path
) -> None:
    (broken / "theme.qss").rename(broken / "theme.qss.hidden")
    window = subprocess.run(
        [str(installed.command), "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=installed.empty,
        env=installed.env(QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path)),
    )
    assert window.returncode == 2
    ours = [line for line in window.stderr.splitlines() if line.startswith("mobile-console:")]
    assert len(ours) == 1 and "theme.qss is missing" in ours[0], window.stderr
    assert "Traceback" not in window.stderr

    (broken / "templates").rename(broken / "templates.hidden")
    made = installed.run(
        *("--home", str(home), "job", "create", "getUpdates", "--every", "1", "--unit", "hour"),
        *("--template", "getUpdates"),
    )
    assert made.returncode == 2
    assert len(made.stderr.strip().splitlines()) == 1 and "templates is missing" in made.stderr
    assert json.loads(installed.run("--home", str(home), "job", "list", "--json").stdout) == []
