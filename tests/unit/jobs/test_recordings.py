"""Runs' HTTP recordings, stored compressed beside their run."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.app import Services, open_services
from console.core.errors import ConsoleError
from console.core.jobs.recordings import Collector, replay_notes


def a_run(services: Services, job: str) -> int:
    if job not in {j.name for j in services.jobs.all()}:
        services.jobs.create(job, interval=1, unit="hour", script=f"def {job}():\n    pass\n")
    return services.runner.run(job).id


def exchange(size: int) -> dict[str, object]:
    return {
        "method": "GET",
        "url": "http://x/",
        "status": 200,
        "response_body": {"text": "a" * size},
    }


def test_a_recording_is_kept_and_goes_with_its_run(services: Services) -> None:
    run_id = a_run(services, "one")
    services.recordings.save(run_id, [exchange(5000), exchange(3)])
    recording = services.recordings.get(run_id)
    assert recording is not None and recording.bytes == 5003
    assert recording.exchanges[0]["response_body"] == {"text": "a" * 5000}
    services.jobs.delete("one")
    assert services.recordings.get(run_id) is None


def test_past_the_run_budget_bodies_become_digests_and_a_replay_says_which() -> None:
    collector = Collector(run_limit=100)
    for size in (60, 60, 30):
        collector.add(exchange(size))
    assert [e["response_body"].get("truncated", False) for e in collector.exchanges] == [  # type: ignore[attr-defined]
        False,
        True,
        False,
    ]


def test_a_replay_needs_a_recording_of_the_same_job(services: Services) -> None:
    first = a_run(services, "one")
    other = a_run(services, "two")
    services.recordings.save(other, [exchange(1)])
    job = services.jobs.get("one")
    with pytest.raises(ConsoleError, match=f"run {first} has no HTTP recording"):
        services.recordings.for_replay(first, job.id, job.name)
    with pytest.raises(ConsoleError, match=f"run {other} is a run of two, not of one"):
        services.recordings.for_replay(other, job.id, job.name)
    recording = services.recordings.for_replay(other, services.jobs.get("two").id, "two")
    assert replay_notes(recording) == [f"Replaying run {other}: 1 recorded HTTP exchange"]


def test_a_recording_round_trips_on_each_database(
    db_url: str, home: Path, memory_keyring: object
) -> None:
    services = open_services(home, db_url, keyring_backend=memory_keyring)
    try:
        run_id = a_run(services, "one")
        exchanges = [
            {"method": "GET", "url": "http://x/ü", "response_body": {"base64": "AAE=" * 5000}}
        ]
        services.recordings.save(run_id, exchanges)
        recording = services.recordings.get(run_id)
        assert recording is not None and recording.exchanges == exchanges
    finally:
        services.close()
