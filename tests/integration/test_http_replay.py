"""Time travel, end to end: each template runs once against a live loopback
server, its HTTP recorded; then, with the server stopped and the script
unchanged, a replay of that run writes exactly the rows the first run wrote."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from PIL import Image

from console.app import Services
from console.core.config.masking import MASK
from console.core.jobs.runs import Run
from console.core.tables.api import open_table
from console.demo.twitter_standin import TwitterStandIn
from tests.conftest import RunCli
from tests.fakes.echo_site import EchoSite
from tests.fakes.static_site import StaticSite, rss

SYSTEM = {"id", "__createdAt", "__updatedAt", "__version", "__runId"}


def content(services: Services, table: str) -> list[dict[str, Any]]:
    """A table's rows without their system columns, in a stable order."""
    rows = [
        {k: v for k, v in row.items() if k not in SYSTEM}
        for row in open_table(services.tables, table).read()
    ]
    return sorted(rows, key=repr)


def log_of(services: Services, run: Run) -> str:
    return "\n".join(e.message for e in services.runs.entries(run_id=run.id))


def offline_replay_writes_the_same(
    services: Services, name: str, table: str, reset: Callable[[], None], stop: Callable[[], None]
) -> Run:
    first = services.runner.run(name)
    assert first.status == "succeeded", log_of(services, first)
    written = content(services, table)
    reset()
    stop()
    with pytest.raises(requests.ConnectionError):
        requests.get("http://127.0.0.1:9/", timeout=1)  # nothing to answer, as for the server
    again = services.runner.run(name, replay=first.id)
    assert again.status == "succeeded", log_of(services, again)
    assert content(services, table) == written
    return first


def clear(services: Services, table: str) -> Callable[[], None]:
    return lambda: open_table(services.tables, table).where().delete() and None


@pytest.mark.parametrize("api", ["v1.1", "v2"])
def test_get_updates_replays_offline_to_the_same_rows(services: Services, api: str) -> None:
    standin = TwitterStandIn(seed=5).start()
    try:
        creds = standin.credentials
        services.app_settings.set_identity(creds.consumer_key, creds.consumer_secret)
        services.app_settings.set("TWITTER_ACCESS_TOKEN", creds.access_token, secret=True)
        secret = creds.access_token_secret
        services.app_settings.set("TWITTER_ACCESS_TOKEN_SECRET", secret, secret=True)
        url = standin.search_url if api == "v1.1" else standin.search_url_v2
        services.app_settings.set("TWITTER_SEARCH_URL", url)
        standin.publish(150)
        services.tables.create("Updates")
        services.jobs.create("getUpdates", interval=1, unit="hour", template="getUpdates")
        first = offline_replay_writes_the_same(
            services, "getUpdates", "Updates", clear(services, "Updates"), standin.stop
        )
        assert len(content(services, "Updates")) > 100
        recording = services.recordings.get(first.id)
        assert recording is not None and recording.exchanges
        stored = repr(recording.exchanges)
        for value in (creds.consumer_secret, creds.access_token, secret, creds.consumer_key):
            assert value not in stored
        assert MASK in recording.exchanges[0]["request_headers"]["Authorization"]
    finally:
        standin.stop()


def test_get_feed_replays_offline_to_the_same_rows(services: Services) -> None:
    site = StaticSite().__enter__()
    try:
        site.put("/a.xml", rss("A", [("a1", "http://x/a1", "One"), ("a2", None, "Two")]))
        site.put("/b.xml", rss("B", [(None, "http://x/b1", "B one")]))
        services.app_settings.set("FEED_URLS", f"{site.url('/a.xml')} {site.url('/b.xml')}")
        services.jobs.create("getFeed", interval=1, unit="hour", template="getFeed")

        def reset() -> None:
            for info in services.tables.all():
                open_table(services.tables, info.name).where().delete()

        offline_replay_writes_the_same(
            services, "getFeed", "Feed", reset, lambda: site.__exit__(None, None, None)
        )
        assert len(content(services, "Feed")) == 3
    finally:
        site.__exit__(None, None, None)


def picture(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 30)).save(out, "PNG")
    return out.getvalue()


def test_make_thumbnails_replays_offline_to_the_same_rows(services: Services) -> None:
    site = StaticSite().__enter__()
    try:
        site.put("/a.png", picture(400, 200), "image/png")
        site.put("/b.png", picture(50, 90), "image/png")
        site.put("/c.txt", b"not a picture", "text/plain")
        services.tables.create("Photos")
        open_table(services.tables, "Photos").insert_many(
            [
                {"name": n, "imageUrl": site.url(p)}
                for n, p in [("a", "/a.png"), ("b", "/b.png"), ("c", "/c.txt")]
            ]
        )
        services.app_settings.set("THUMBNAIL_TABLE", "Photos")
        services.jobs.create("makeThumbnails", interval=1, unit="hour", template="makeThumbnails")

        def reset() -> None:
            open_table(services.tables, "Photos").where().update(thumbnail=None)

        offline_replay_writes_the_same(
            services, "makeThumbnails", "Photos", reset, lambda: site.__exit__(None, None, None)
        )
        thumbs = [r["thumbnail"] for r in content(services, "Photos")]
        assert sum(t is not None for t in thumbs) == 2
    finally:
        site.__exit__(None, None, None)


ECHO_JOB = """import requests
def echo():
    token = config.app_settings["TOKEN"]
    r = requests.post(URL + "/api?key=" + token, json={"token": token, "n": 1},
                      headers={"Authorization": "Bearer " + token, "X-Note": "t=" + token})
    console.log("got " + str(r.status_code) + " " + r.text[:20])
    tables.get_table("Seen").insert({"status": r.status_code, "body": r.text})
"""


@pytest.fixture
def echo_site() -> Iterator[EchoSite]:
    site = EchoSite()
    yield site
    site.stop()


def echo_job(services: Services, site: EchoSite, script: str = ECHO_JOB) -> None:
    services.app_settings.set("TOKEN", "tok-9f8e7d6c", secret=True)
    services.tables.create("Seen")
    base = site.url("")
    services.jobs.create("echo", interval=1, unit="hour", script=f"URL = {base!r}\n{script}")


def test_the_recording_holds_no_secret_and_run_http_lists_it(
    services: Services, echo_site: EchoSite, run_cli: RunCli
) -> None:
    echo_job(services, echo_site)
    run = services.runner.run("echo")
    assert run.status == "succeeded", log_of(services, run)
    recording = services.recordings.get(run.id)
    assert recording is not None
    (only,) = recording.exchanges
    assert "tok-9f8e7d6c" not in repr(only)
    assert only["method"] == "POST" and only["url"].endswith(f"/api?key={MASK}")
    assert only["request_headers"]["Authorization"] == MASK
    assert only["request_body"]["text"] == f'{{"token": "{MASK}", "n": 1}}'
    assert only["response_body"]["text"] == f'{{"ok": true, "echo": "{MASK}"}}'
    listed = run_cli("run", "http", str(run.id))
    assert listed.returncode == 0, listed.stderr
    assert f"POST    {echo_site.url('/api')}?key={MASK}" in listed.stdout
    assert " 200 " in listed.stdout and "tok-9f8e7d6c" not in listed.stdout


def test_replay_from_the_command_line_and_its_bad_input(
    services: Services, echo_site: EchoSite, run_cli: RunCli
) -> None:
    echo_job(services, echo_site)
    first = services.runner.run("echo").id
    echo_site.stop()
    # The command line reads the secret from the OS keyring (the fixture's is in memory).
    assert run_cli("setting", "set", "TOKEN", "--secret", stdin="tok-9f8e7d6c\n").returncode == 0
    replayed = run_cli("job", "run", "echo", "--replay", str(first), "--commit")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert f"Replaying run {first}: 1 recorded HTTP exchange" in replayed.stdout
    assert "got 200" in replayed.stdout
    assert [r["status"] for r in content(services, "Seen")] == [200, 200]

    services.jobs.create("other", interval=1, unit="hour", script="def other():\n    pass\n")
    other = services.runner.run("other").id
    for args, said in [
        (("echo", "--replay", str(other), "--commit"), f"run {other} is a run of other"),
        (("other", "--replay", str(other), "--commit"), f"run {other} has no HTTP recording"),
        (("echo", "--replay", "9999", "--commit"), "no run 9999"),
    ]:
        refused = run_cli("job", "run", *args)
        assert refused.returncode == 2 and said in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    assert len(services.runs.runs(services.jobs.get("echo").id)) == 2  # nothing else ran


def test_a_request_with_no_recorded_answer_fails_naming_it(
    services: Services, echo_site: EchoSite
) -> None:
    echo_job(services, echo_site)
    first = services.runner.run("echo").id
    changed = ECHO_JOB.replace('"n": 1', '"n": 2')
    services.jobs.set_script("echo", f"URL = {echo_site.url('')!r}\n{changed}")
    run = services.runner.run("echo", replay=first)
    assert run.status == "failed"
    assert (
        f"replay: no answer for POST {echo_site.url('/api')}?key={MASK} in run {first}'s recording"
        in (run.error or "")
    )


def test_a_truncated_recording_is_reported_and_not_answered(
    services: Services, echo_site: EchoSite
) -> None:
    services.set_setting("record_http_body_bytes", 10)
    echo_job(services, echo_site)
    first = services.runner.run("echo").id
    recording = services.recordings.get(first)
    assert recording is not None and recording.incomplete == [1]
    run = services.runner.run("echo", replay=first)
    log = log_of(services, run)
    assert f"The recording of run {first} is incomplete: exchange(s) 1 kept only a digest" in log
    assert run.status == "failed" and "is incomplete" in (run.error or "")


def test_recording_can_be_turned_off(services: Services, echo_site: EchoSite) -> None:
    services.set_setting("record_http", False)
    echo_job(services, echo_site)
    run = services.runner.run("echo")
    assert run.status == "succeeded"
    assert services.recordings.get(run.id) is None


JS_JOB = """function jsecho() {
  var request = require('request');
  request.post({url: URL + '/api', json: {a: 1}}, function (error, response, body) {
    console.log('posted ' + response.statusCode + ' ' + body.ok);
    tables.getTable('Seen').insert({status: response.statusCode}, {success: function () {}});
  });
}
"""


def test_a_javascript_jobs_requests_are_recorded_and_replayed(
    services: Services, echo_site: EchoSite
) -> None:
    services.tables.create("Seen")
    script = f"var URL = {echo_site.url('')!r};\n{JS_JOB}"
    services.jobs.create("jsecho", interval=1, unit="hour", script=script, language="javascript")
    first = services.runner.run("jsecho")
    assert first.status == "succeeded", log_of(services, first)
    recording = services.recordings.get(first.id)
    assert recording is not None
    assert [(e["method"], e["url"], e["status"]) for e in recording.exchanges] == [
        ("POST", echo_site.url("/api"), 200)
    ]
    echo_site.stop()
    again = services.runner.run("jsecho", replay=first.id)
    assert again.status == "succeeded", log_of(services, again)
    assert "posted 200 true" in log_of(services, again)
    assert [r["status"] for r in content(services, "Seen")] == [200, 200]


def test_recordings_go_with_the_runs_the_log_retention_removes(
    services: Services, echo_site: EchoSite
) -> None:
    echo_job(services, echo_site)
    run = services.runner.run("echo")
    assert services.recordings.get(run.id) is not None
    later = run.started_at + timedelta(days=31)
    services.runs.clock = lambda: later
    services.runs.purge(30)
    assert services.recordings.get(run.id) is None
