"""getUpdates against X API v2 recent search, on the stand-in, which serves
both protocols and checks both kinds of authentication."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from console.app import Services
from console.core.tables.api import open_table
from console.demo.twitter_standin import TwitterStandIn


@pytest.fixture
def standin() -> Iterator[TwitterStandIn]:
    with TwitterStandIn(seed=11) as server:
        yield server


def setup(services: Services, standin: TwitterStandIn, *, bearer: bool, **settings: str) -> None:
    creds = standin.credentials
    if bearer:
        services.app_settings.set("TWITTER_BEARER_TOKEN", creds.bearer_token, secret=True)
    else:
        services.app_settings.set_identity(creds.consumer_key, creds.consumer_secret)
        services.app_settings.set("TWITTER_ACCESS_TOKEN", creds.access_token, secret=True)
        secret = creds.access_token_secret
        services.app_settings.set("TWITTER_ACCESS_TOKEN_SECRET", secret, secret=True)
    for key, value in {"TWITTER_SEARCH_URL": standin.search_url_v2, **settings}.items():
        services.app_settings.set(key, value)
    services.tables.create("Updates")
    services.jobs.create("getUpdates", interval=1, unit="hour", template="getUpdates")


def log_of(services: Services, run_id: int) -> str:
    return "\n".join(e.message for e in services.runs.entries(run_id=run_id))


def stored(services: Services) -> list[dict[str, object]]:
    return open_table(services.tables, "Updates").order_by("twitterId").read()


@pytest.mark.parametrize("bearer", [False, True], ids=["oauth1", "bearer"])
def test_v2_stores_original_tweets_with_authors(
    services: Services, standin: TwitterStandIn, bearer: bool
) -> None:
    keep = [
        standin.add_tweet("Hello #mobileservices", author="ana_codes"),
        standin.add_tweet("Unicode ☕ 日本 #mobileservices", author="devrel_jo"),
    ]
    standin.add_tweet("quoted #mobileservices", retweet=True)
    standin.add_tweet("@someone reply #mobileservices", reply_to=99)
    standin.add_tweet("RT @x: copied by hand #mobileservices")
    setup(services, standin, bearer=bearer)
    run = services.runner.run("getUpdates")
    assert run.status == "succeeded", log_of(services, run.id)
    rows = stored(services)
    assert [r["twitterId"] for r in rows] == sorted(int(t["id_str"]) for t in keep)
    assert {r["text"]: r["author"] for r in rows} == {
        "Hello #mobileservices": "ana_codes",
        "Unicode ☕ 日本 #mobileservices": "devrel_jo",
    }
    assert all(r["date"].tzinfo is not None for r in rows)  # type: ignore[union-attr]
    (query,) = standin.queries
    assert query["tweet.fields"] == "created_at,author_id"
    assert query["expansions"] == "author_id" and query["max_results"] == "100"
    assert standin.auth_used == ["bearer" if bearer else "oauth1"]


def test_v2_pages_by_next_token_and_then_asks_since_the_newest(
    services: Services, standin: TwitterStandIn
) -> None:
    standin.publish(230)
    setup(services, standin, bearer=True)
    first = services.runner.run("getUpdates")
    assert first.status == "succeeded", log_of(services, first.id)
    originals = [t for t in standin.tweets if not t.get("retweeted_status")]
    originals = [t for t in originals if not t.get("in_reply_to_status_id")]
    assert len(originals) > 100  # more than one page
    assert len(standin.queries) == -(-len(originals) // 100)
    assert "next_token" not in standin.queries[0] and "next_token" in standin.queries[1]
    assert sorted(r["twitterId"] for r in stored(services)) == sorted(t["id"] for t in originals)
    newest = max(t["id"] for t in originals)
    fresh = standin.add_tweet("brand new #mobileservices")
    second = services.runner.run("getUpdates")
    assert second.rows_written == 1
    assert standin.queries[-1]["since_id"] == str(newest)
    assert stored(services)[-1]["twitterId"] == fresh["id"]


def test_v2_wrong_bearer_token_is_refused(services: Services, standin: TwitterStandIn) -> None:
    standin.publish(3)
    setup(services, standin, bearer=True)
    services.app_settings.set("TWITTER_BEARER_TOKEN", "not-the-token", secret=True)
    run = services.runner.run("getUpdates")
    assert run.status == "failed"
    assert "Twitter answered HTTP 401: Unauthorized" in log_of(services, run.id)
    assert stored(services) == []


def test_v2_rate_limit_names_the_reset_time(services: Services, standin: TwitterStandIn) -> None:
    standin.publish(3)
    setup(services, standin, bearer=True)
    standin.fail_next("429")
    run = services.runner.run("getUpdates")
    log = log_of(services, run.id)
    assert run.status == "failed"
    assert "Twitter answered HTTP 429: Too Many Requests" in log
    assert "Rate limit exceeded; it resets at" in log


def test_twitter_api_setting_picks_the_protocol(
    services: Services, standin: TwitterStandIn
) -> None:
    standin.publish(5)
    # TWITTER_API=v1.1: the tutorial's protocol, here with a bearer token.
    setup(services, standin, bearer=True, TWITTER_API="v1.1")
    services.app_settings.set("TWITTER_SEARCH_URL", standin.search_url)
    run = services.runner.run("getUpdates")
    assert run.status == "succeeded", log_of(services, run.id)
    assert "q" in standin.queries[-1] and "query" not in standin.queries[-1]
    assert len(stored(services)) > 0
    services.app_settings.set("TWITTER_API", "v3")
    run = services.runner.run("getUpdates")
    assert run.status == "failed" and "TWITTER_API must be v1.1 or v2" in (run.error or "")


def test_the_standin_checks_v2_requests(standin: TwitterStandIn) -> None:
    bearer = {"Authorization": f"Bearer {standin.credentials.bearer_token}"}
    url = standin.search_url_v2
    assert requests.get(url, params={"query": "x"}, timeout=5).status_code == 401
    too_many = requests.get(
        url, params={"query": "x", "max_results": 500}, headers=bearer, timeout=5
    )
    assert too_many.status_code == 400 and "max_results" in too_many.json()["detail"]
    empty = requests.get(url, params={"query": "nothing-matches"}, headers=bearer, timeout=5)
    assert empty.json() == {"meta": {"result_count": 0}}
