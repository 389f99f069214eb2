"""The getUpdates template end to end against the Twitter stand-in, a real
HTTP server on loopback that verifies every OAuth 1.0a signature."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests
from requests_oauthlib import OAuth1

from console.app import Services
from console.core.tables.api import open_table
from console.demo.twitter_standin import TwitterStandIn
from tests.conftest import RunCli


@pytest.fixture
def standin() -> Iterator[TwitterStandIn]:
    with TwitterStandIn(seed=7) as server:
        yield server


@pytest.fixture
def tutorial(services: Services, standin: TwitterStandIn) -> Services:
    """The tutorial's steps: identity, app settings, Updates, getUpdates."""
    creds = standin.credentials
    services.app_settings.set_identity(creds.consumer_key, creds.consumer_secret)
    services.app_settings.set("TWITTER_ACCESS_TOKEN", creds.access_token, secret=True)
    services.app_settings.set("TWITTER_ACCESS_TOKEN_SECRET", creds.access_token_secret, secret=True)
    services.app_settings.set("TWITTER_SEARCH_URL", standin.search_url)
    services.tables.create("Updates")
    services.jobs.create("getUpdates", interval=1, unit="hour", template="getUpdates")
    return services


def stored(services: Services) -> list[dict[str, object]]:
    return open_table(services.tables, "Updates").order_by("twitterId").read()


def log_of(services: Services, run_id: int) -> str:
    return "\n".join(e.message for e in services.runs.entries(run_id=run_id))


def test_stores_exactly_the_original_tweets_with_exact_ids(
    tutorial: Services, standin: TwitterStandIn
) -> None:
    keep = [
        standin.add_tweet("Hello #mobileservices"),
        standin.add_tweet("I love RT in #mobileservices"),
        standin.add_tweet("RTFM first #mobileservices"),
        standin.add_tweet("Unicode ☕ 日本 #mobileservices", author="ana_codes"),
    ]
    standin.add_tweet("RT @x: copied #mobileservices", retweet=False)
    standin.add_tweet("quoted #mobileservices", retweet=True)
    standin.add_tweet("@someone reply #mobileservices", reply_to=99)
    standin.add_tweet("other topic")
    run = tutorial.runner.run("getUpdates")
    assert run.status == "succeeded", log_of(tutorial, run.id)
    rows = stored(tutorial)
    assert [r["twitterId"] for r in rows] == sorted(int(t["id_str"]) for t in keep)
    assert all(r["twitterId"] > 2**53 for r in rows)  # beyond a double's exact range
    first = next(r for r in rows if r["text"] == keep[3]["text"])
    assert first["author"] == "ana_codes"
    assert first["date"].tzinfo is not None  # a real UTC timestamp
    assert "Fetched 7 new results from Twitter" in log_of(tutorial, run.id)
    assert run.rows_written == 4


def test_the_second_run_asks_only_for_newer_tweets_and_adds_no_duplicates(
    tutorial: Services, standin: TwitterStandIn
) -> None:
    standin.publish(30)
    assert tutorial.runner.run("getUpdates").status == "succeeded"
    count = len(stored(tutorial))
    newest = max(r["twitterId"] for r in stored(tutorial))
    assert tutorial.runner.run("getUpdates").rows_written == 0
    assert standin.queries[-1]["since_id"] == str(newest)
    fresh = standin.add_tweet("brand new #mobileservices")
    run = tutorial.runner.run("getUpdates")
    assert run.rows_written == 1
    ids = [r["twitterId"] for r in stored(tutorial)]
    assert len(ids) == len(set(ids)) == count + 1
    assert ids[-1] == fresh["id"]


def test_follows_pages_up_to_the_bound(tutorial: Services, standin: TwitterStandIn) -> None:
    for i in range(250):
        standin.add_tweet(f"tweet {i} #mobileservices")
    tutorial.app_settings.set("TWITTER_MAX_PAGES", "2")
    run = tutorial.runner.run("getUpdates")
    assert "Fetched 200 new results" in log_of(tutorial, run.id)
    assert len(standin.queries) == 2 and "max_id" in standin.queries[1]
    tutorial.app_settings.set("TWITTER_MAX_PAGES", "10")
    # The newest 200 are stored; the older 50 are below since_id now, as Twitter would.
    assert len(stored(tutorial)) == 200


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("500", "Twitter answered HTTP 500: Internal error (code 131)"),
        ("429", "Rate limit exceeded; it resets at"),
        ("malformed", "Twitter's answer was not valid JSON"),
        ("slow", "did not answer within 1 s"),
    ],
)
def test_each_fault_fails_the_run_with_a_clear_line_and_no_rows(
    tutorial: Services, standin: TwitterStandIn, fault: str, expected: str
) -> None:
    standin.publish(150)  # two pages: a fault on the second must not keep the first
    tutorial.app_settings.set("TWITTER_TIMEOUT", "1")
    standin.fail_next(fault, seconds=3)
    run = tutorial.runner.run("getUpdates")
    assert run.status == "failed"
    assert expected in log_of(tutorial, run.id)
    assert stored(tutorial) == []


def test_a_fault_on_a_later_page_writes_nothing(
    tutorial: Services, standin: TwitterStandIn
) -> None:
    standin.publish(150)
    original = standin._handle

    def second_fails(handler):  # type: ignore[no-untyped-def]
        if standin.requests_served == 1:
            standin.fail_next("500")
        original(handler)

    standin._handle = second_fails  # type: ignore[method-assign]
    run = tutorial.runner.run("getUpdates")
    assert run.status == "failed" and stored(tutorial) == []


def test_a_wrong_secret_is_refused_by_the_signature_check(
    tutorial: Services, standin: TwitterStandIn
) -> None:
    standin.publish(5)
    tutorial.app_settings.set("TWITTER_ACCESS_TOKEN_SECRET", "not-the-secret", secret=True)
    run = tutorial.runner.run("getUpdates")
    assert run.status == "failed"
    assert "HTTP 401: Could not authenticate you. (code 32)" in log_of(tutorial, run.id)
    assert stored(tutorial) == []


def test_a_connection_error_fails_clearly(tutorial: Services, standin: TwitterStandIn) -> None:
    standin.stop()
    run = tutorial.runner.run("getUpdates")
    assert run.status == "failed"
    assert run.error is not None and "Could not contact Twitter" in run.error


def test_missing_identity_fails_with_the_fix(services: Services, standin: TwitterStandIn) -> None:
    services.tables.create("Updates")
    services.jobs.create("getUpdates", interval=1, unit="hour", template="getUpdates")
    run = services.runner.run("getUpdates")
    assert run.error is not None and "Twitter consumer key is not set" in run.error


def test_the_standin_refuses_a_replayed_nonce(standin: TwitterStandIn) -> None:
    creds = standin.credentials
    auth = OAuth1(
        creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret
    )
    prepared = requests.Request("GET", standin.search_url, params={"q": "x"}, auth=auth).prepare()
    with requests.Session() as session:
        assert session.send(prepared, timeout=5).status_code == 200
        replay = session.send(prepared, timeout=5)
    assert replay.status_code == 401
    assert replay.json()["errors"][0]["code"] == 32
    assert standin.replays_refused == 1
    wrong = replace(creds, consumer_secret="wrong")
    bad = OAuth1(
        wrong.consumer_key, wrong.consumer_secret, wrong.access_token, wrong.access_token_secret
    )
    answer = requests.get(standin.search_url, params={"q": "x"}, auth=bad, timeout=5)
    assert answer.status_code == 401
    assert int(answer.headers["x-rate-limit-limit"]) == 180


def test_the_standin_keeps_publishing(standin: TwitterStandIn) -> None:
    standin.publish_every(0.05, count=2)
    deadline = time.monotonic() + 5
    while len(standin.tweets) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(standin.tweets) >= 4


@pytest.mark.keyring
def test_the_tutorial_through_the_command_line(run_cli: RunCli, standin: TwitterStandIn) -> None:
    """Identity, settings, table, job, Run Once, browse: as the tutorial says."""
    import json
    import os

    from tests.conftest import need

    need(bool(os.environ.get("MOBILE_CONSOLE_TEST_KEYRING")), "no Secret Service session")

    cli = run_cli

    creds = standin.credentials
    steps = [
        (("identity", "twitter"), f"{creds.consumer_key}\n{creds.consumer_secret}\n"),
        (("setting", "set", "TWITTER_ACCESS_TOKEN", "--secret"), creds.access_token),
        (("setting", "set", "TWITTER_ACCESS_TOKEN_SECRET", "--secret"), creds.access_token_secret),
        (("setting", "set", "TWITTER_SEARCH_URL", standin.search_url), ""),
        (("table", "create", "Updates"), ""),
        (
            (
                "job",
                "create",
                "getUpdates",
                "--every",
                "1",
                "--unit",
                "hour",
                "--template",
                "getUpdates",
            ),
            "",
        ),
    ]
    for args, stdin in steps:
        done = cli(*args, stdin=stdin)
        assert done.returncode == 0, (args, done.stderr)
    standin.publish(40)
    run = cli("job", "run", "getUpdates")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Fetched 40 new results from Twitter" in run.stdout
    rows = json.loads(cli("table", "rows", "Updates", "--json").stdout)
    expected = {
        int(t["id_str"])
        for t in standin.tweets
        if not t.get("retweeted_status")
        and not t.get("in_reply_to_status_id")
        and not t["text"].startswith("RT ")
    }
    assert {r["twitterId"] for r in rows} == expected
    assert cli("job", "enable", "getUpdates").returncode == 0
