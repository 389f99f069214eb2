"""The tutorial's own JavaScript, exactly as printed, run as a JavaScript job
against the Twitter stand-in (a loopback server that verifies every OAuth
1.0a signature), through a redirect from https://api.twitter.com."""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from console.app import Services
from console.core.tables.api import open_table
from console.demo.twitter_standin import TwitterStandIn
from tests.conftest import IN_CI

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The document the product started from, beside the clone (never copied into it).
TUTORIAL = PROJECT_ROOT / ".." / "shared" / "reference" / "000_80da4e9bf3f0f943.txt"


def tutorial_script() -> str:
    """The tutorial's getUpdates: from `var updatesTable` to the end of
    `filterOutTweet`, its indentation removed."""
    path = Path(os.environ.get("MOBILE_CONSOLE_TUTORIAL", TUTORIAL))
    if not path.exists():
        if IN_CI:
            pytest.fail(f"CI must provide the tutorial at {path}")
        pytest.skip(f"the tutorial is not at {path}")
    text = path.read_text("utf-8")
    start = text.index("var updatesTable")
    start = text.rindex("\n", 0, start) + 1
    end_of_filter = re.compile(r"function filterOutTweet\(tweet\)\{.*?\n[ \t]*\}\n", re.S)
    match = end_of_filter.search(text, start)
    assert match is not None, "the tutorial's filterOutTweet was not found"
    return textwrap.dedent(text[start : match.end()])


@pytest.fixture
def standin() -> Iterator[TwitterStandIn]:
    with TwitterStandIn(seed=11) as server:
        yield server


@pytest.fixture
def tutorial(services: Services, standin: TwitterStandIn) -> Services:
    """The tutorial's steps, with the tutorial's own script pasted."""
    creds = standin.credentials
    services.app_settings.set_identity(creds.consumer_key, creds.consumer_secret)
    services.app_settings.set("TWITTER_ACCESS_TOKEN", creds.access_token, secret=True)
    services.app_settings.set("TWITTER_ACCESS_TOKEN_SECRET", creds.access_token_secret, secret=True)
    services.redirects.add("https://api.twitter.com/", standin.search_url.split("1.1/")[0])
    services.tables.create("Updates")
    services.jobs.create(
        "getUpdates", interval=1, unit="hour", script=tutorial_script(), language="javascript"
    )
    return services


def log_of(services: Services, run_id: int) -> str:
    return "\n".join(e.message for e in services.runs.entries(run_id=run_id))


def js_double(value: float) -> int:
    """`value` as JavaScript's double prints it (the shortest digits that
    round-trip, then zeros), which is what crosses out of JavaScript."""
    return int(Decimal(repr(float(value))))


def test_the_extracted_script_is_the_tutorials_getupdates() -> None:
    script = tutorial_script()
    assert script.startswith("var updatesTable = tables.getTable('Updates');\n")
    assert script.rstrip().endswith("}")
    assert "function getUpdates()" in script and "function appendLastTweetId" in script


def test_the_tutorials_script_stores_tweets_and_asks_for_newer_ones_next(
    tutorial: Services, standin: TwitterStandIn
) -> None:
    first = [
        standin.add_tweet("Hello #mobileservices"),
        standin.add_tweet("Unicode ☕ 日本 #mobileservices", author="ana_codes"),
    ]
    retweet = standin.add_tweet("RT @x: copied #mobileservices")
    run = tutorial.runner.run("getUpdates")
    assert run.status == "succeeded", log_of(tutorial, run.id)
    log = log_of(tutorial, run.id)
    assert "Fetched 3 new results from Twitter" in log
    rows = sorted(open_table(tutorial.tables, "Updates").read(), key=lambda r: str(r["text"]))
    first.sort(key=lambda t: str(t["text"]))
    assert [(r["text"], r["author"]) for r in rows] == [
        (t["text"], t["user"]["screen_name"]) for t in first
    ]
    # Stored as the tutorial did in Azure: the ids as JavaScript's doubles.
    assert [r["twitterId"] for r in rows] == [js_double(t["id"]) for t in first]
    assert re.search(r"Precision: twitterId \d+ left JavaScript beyond 2\^53", log), log
    # Both values: what JavaScript sent, and the exact digits it was parsed from.
    warned = re.search(r"twitterId (\d+) left JavaScript beyond 2\^53 \(.* had (\d+)\)", log)
    assert warned is not None, log
    # (Ids made in one millisecond share a double: any of them is its origin.)
    assert int(warned.group(2)) in {t["id"] for t in [*first, retweet]}
    assert int(warned.group(1)) == js_double(int(warned.group(2)))
    assert "id_str" in log

    newer = standin.add_tweet("Newer #mobileservices")
    run = tutorial.runner.run("getUpdates")
    assert run.status == "succeeded", log_of(tutorial, run.id)
    # The largest stored twitterId, plus one, in JavaScript's arithmetic.
    expected_since = js_double(float(max(r["twitterId"] for r in rows)) + 1)
    assert standin.queries[-1]["since_id"] == str(expected_since)
    texts = [r["text"] for r in open_table(tutorial.tables, "Updates").read()]
    assert newer["text"] in texts


def test_http_500_says_could_not_contact_twitter_and_stores_nothing(
    tutorial: Services, standin: TwitterStandIn
) -> None:
    standin.add_tweet("Hello #mobileservices")
    standin.fail_next("500")
    run = tutorial.runner.run("getUpdates")
    assert run.status == "succeeded"  # the tutorial logs the failure and carries on
    assert "Could not contact Twitter" in log_of(tutorial, run.id)
    assert open_table(tutorial.tables, "Updates").count() == 0


def test_the_redirect_is_applied_before_signing(
    tutorial: Services, standin: TwitterStandIn
) -> None:
    """The stand-in verifies the signature against its own URL: a request
    signed for api.twitter.com would be refused with 401."""
    standin.add_tweet("Hello #mobileservices")
    run = tutorial.runner.run("getUpdates")
    assert run.status == "succeeded"
    assert open_table(tutorial.tables, "Updates").count() == 1
    assert standin.requests_served == 1
    tutorial.redirects.delete("https://api.twitter.com/")
    tutorial.redirects.add("https://api.twitter.com/", "http://127.0.0.1:9/")  # nothing there
    run = tutorial.runner.run("getUpdates")
    assert "Could not contact Twitter" in log_of(tutorial, run.id)


def test_the_getupdates_js_template_keeps_ids_exact_and_pages(
    services: Services, standin: TwitterStandIn
) -> None:
    creds = standin.credentials
    services.app_settings.set_identity(creds.consumer_key, creds.consumer_secret)
    services.app_settings.set("TWITTER_ACCESS_TOKEN", creds.access_token, secret=True)
    services.app_settings.set("TWITTER_ACCESS_TOKEN_SECRET", creds.access_token_secret, secret=True)
    services.redirects.add("https://api.twitter.com/", standin.search_url.split("1.1/")[0])
    services.tables.create("Updates")
    job = services.jobs.create("getUpdates", interval=1, unit="hour", template="getUpdates-js")
    assert job.language == "javascript"
    published = standin.publish(230)
    run = services.runner.run("getUpdates")
    log = log_of(services, run.id)
    assert run.status == "succeeded", log
    assert "Precision" not in log
    originals = {
        t["id"]
        for t in published
        if not t["text"].startswith("RT")
        and not t.get("retweeted_status")
        and t["in_reply_to_status_id"] is None
    }
    ids = [r["twitterId"] for r in open_table(services.tables, "Updates").read()]
    assert sorted(ids) == sorted(originals)  # exact 64-bit ids, all pages
    newest = standin.add_tweet("One more #mobileservices")
    run = services.runner.run("getUpdates")
    assert run.status == "succeeded", log_of(services, run.id)
    assert standin.queries[-1]["since_id"] == str(max(originals))
    assert open_table(services.tables, "Updates").where(twitterId=newest["id"]).count() == 1
    assert open_table(services.tables, "Updates").count() == len(originals) + 1


def test_python_jobs_requests_follow_the_redirect_before_signing(
    services: Services, standin: TwitterStandIn
) -> None:
    """The Python getUpdates template, unchanged, with Twitter's own URL:
    the stand-in accepts only signatures made for itself."""
    creds = standin.credentials
    services.app_settings.set_identity(creds.consumer_key, creds.consumer_secret)
    services.app_settings.set("TWITTER_ACCESS_TOKEN", creds.access_token, secret=True)
    services.app_settings.set("TWITTER_ACCESS_TOKEN_SECRET", creds.access_token_secret, secret=True)
    services.tables.create("Updates")
    services.jobs.create("getUpdates", interval=1, unit="hour", template="getUpdates")
    tweet = standin.add_tweet("Hello #mobileservices")
    services.redirects.add("https://api.twitter.com/", standin.search_url.split("1.1/")[0])
    run = services.runner.run("getUpdates")
    assert run.status == "succeeded", log_of(services, run.id)
    assert [r["twitterId"] for r in open_table(services.tables, "Updates").read()] == [tweet["id"]]
    assert standin.replays_refused == 0 and standin.requests_served == 1
