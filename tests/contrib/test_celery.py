"""The Celery tasks against a real broker: a Redis server started for the session and a
Celery worker in a subprocess, sending to the Clickatell emulator over loopback; what
the emulator accepted is counted."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from celery import Celery

from smsbridge import Message
from smsbridge.config import config_from_mapping
from smsbridge.contrib.celery import beat_schedule, configure, enqueue_sms, reset, task_reference
from smsbridge.contrib.celery.tasks import RESUME_TASK
from smsbridge.errors import InvalidMessageError
from smsbridge.outbox import SqliteStore
from smsbridge.testing import EmulatorFactory
from smsbridge.testing.redis import RedisServer
from smsbridge_clickatell.emulator import ClickatellEmulator

from .celery_app import make_app

ROOT = Path(__file__).resolve().parents[2]
NUMBERS = ["+447700900401", "+447700900402", "+447700900403"]
ENQUEUE = "smsbridge.enqueue"


def _write_config(folder: Path, emulator: ClickatellEmulator) -> dict[str, str]:
    """A smsbridge.toml for the emulator; returns the environment the worker needs."""
    (folder / "smsbridge.toml").write_text(
        'region = "GB"\n'
        'store = "outbox.sqlite3"\n'
        "[routing.retry]\nmax_attempts = 2\nbase = 0.01\ncap = 0.05\n"
        "[providers.clickatell]\n"
        f'base_url = "{emulator.url}"\n'
        'api_id_env = "TEST_CLICKATELL_API_ID"\n'
        'user_env = "TEST_CLICKATELL_USER"\n'
        'password_env = "TEST_CLICKATELL_PASSWORD"\n',
        encoding="utf-8",
    )
    return {
        "SMSBRIDGE_CONFIG": str(folder / "smsbridge.toml"),
        "TEST_CLICKATELL_API_ID": emulator.api_id,
        "TEST_CLICKATELL_USER": emulator.user,
        "TEST_CLICKATELL_PASSWORD": emulator.password,
    }


@contextmanager
def _worker(
    redis: RedisServer, folder: Path, env: dict[str, str], *, pool: str = "solo"
) -> Iterator[Celery]:
    """A Celery worker subprocess on ``redis`` (``solo`` pool: tasks in the worker's own
    process; ``prefork``: two forked pool processes); yields a client app."""
    log = (folder / "worker.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "tests.contrib.celery_app", "worker",
            f"--pool={pool}", f"--concurrency={1 if pool == 'solo' else 2}",
            "--without-gossip", "--without-mingle",
            "--without-heartbeat", "--loglevel=WARNING", "-n", f"t{uuid.uuid4().hex[:8]}@%h",
        ],
        cwd=ROOT,
        env={**os.environ, **env, "SMSBRIDGE_TEST_REDIS_URL": redis.url, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    client = make_app(redis.url)
    try:
        yield client
    finally:
        process.terminate()  # a warm shutdown: the task in hand finishes
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        client.close()
        log.close()


def _call(client: Celery, name: str, folder: Path, **options: Any) -> Any:
    result = client.send_task(name, **options)
    try:
        return result.get(timeout=90)
    except Exception:
        print((folder / "worker.log").read_text(encoding="utf-8"))  # the worker's side
        raise


@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_enqueue_twice_then_resume_sends_each_message_once(
    tmp_path: Path,
    redis_server: RedisServer,
    smsbridge_emulator_factory: EmulatorFactory,
    pool: str,
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    env = _write_config(tmp_path, emulator)
    with _worker(redis_server, tmp_path, env, pool=pool) as client:
        args = {"to": NUMBERS, "body": "Your order has shipped"}
        task_id = str(uuid.uuid4())
        first = _call(client, ENQUEUE, tmp_path, kwargs=args, task_id=task_id)
        # The same task delivered again (a redelivery after a lost acknowledgement);
        # the first run's stored result is dropped so that the second one's is read.
        client.AsyncResult(task_id).forget()
        again = _call(client, ENQUEUE, tmp_path, kwargs=args, task_id=task_id)
        assert not emulator.submissions.snapshot()  # enqueueing sends nothing
        # Three drains at once (in pool processes with prefork) share the outbox. Each
        # leaves what another live one holds to it (patience 0), so whether one of them
        # finds the outbox complete depends on timing: the run after them says.
        drains = [client.send_task(RESUME_TASK, kwargs={"timeout": 60}) for _ in range(2)]
        _call(client, RESUME_TASK, tmp_path, kwargs={"timeout": 60})
        for drain in drains:
            drain.get(timeout=90)  # a drain that failed in the worker raises here
        summary = _call(client, RESUME_TASK, tmp_path, kwargs={"timeout": 60})
    assert (first["added"], first["existing"]) == (3, 0)
    assert (again["added"], again["existing"]) == (0, 3)
    assert again["references"] == first["references"]
    assert all(ref.startswith(f"celery:{task_id}") for ref in first["references"])
    assert summary["complete"] is True and summary["unsettled"] == 0
    accepted = emulator.submissions.accepted_recipients()
    assert sorted(accepted) == NUMBERS
    assert set(accepted.values()) == {1}


def test_a_retried_enqueue_writes_nothing_twice(
    tmp_path: Path, redis_server: RedisServer, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    env = {**_write_config(tmp_path, emulator), "SMSBRIDGE_TEST_LOSE_FIRST_ADD": "1"}
    with _worker(redis_server, tmp_path, env) as client:
        args = {"to": NUMBERS, "body": "Your code is 123456", "reference": "otp-batch-9"}
        retried = _call(client, ENQUEUE, tmp_path, kwargs=args)
        summary = _call(client, RESUME_TASK, tmp_path, kwargs={"timeout": 60})
    # The first run wrote every item and then failed; the retry found them all there.
    assert (retried["added"], retried["existing"]) == (0, 3)
    assert summary["complete"] is True
    assert sum(emulator.submissions.accepted_recipients().values()) == 3
    assert set(emulator.submissions.accepted_recipients().values()) == {1}
    with SqliteStore(tmp_path / "outbox.sqlite3") as store:
        assert sum(store.counts().values()) == 3


@pytest.fixture
def eager_outbox(tmp_path: Path) -> Iterator[Path]:
    """The tasks configured in this process, on a fresh outbox, run with ``apply``."""
    config = config_from_mapping(
        {
            "region": "GB",
            "store": "outbox.sqlite3",
            "providers": {"clickatell": {"api_id": "1", "user": "u", "password": "p"}},
        },
        base=tmp_path,
    )
    configure(config)
    try:
        yield tmp_path / "outbox.sqlite3"
    finally:
        reset()


def test_enqueue_reports_refused_numbers_and_keeps_the_rest(eager_outbox: Path) -> None:
    outcome = enqueue_sms.apply(
        kwargs={"to": ["07700 900501", "not a number", "07700 900502"], "body": "Hi"},
        task_id="eager-1",
    ).get()
    assert outcome["added"] == 2
    assert [r["recipient"] for r in outcome["refused"]] == ["not a number"]
    assert outcome["refused"][0]["status"] == "invalid_number"
    with SqliteStore(eager_outbox) as store:
        assert sum(store.counts().values()) == 2


def test_enqueue_refuses_a_bad_message_without_retrying(eager_outbox: Path) -> None:
    result = enqueue_sms.apply(kwargs={"to": "07700 900501", "body": ""}, task_id="eager-2")
    assert isinstance(result.result, InvalidMessageError)
    assert result.result.field == "body"
    assert result.state == "FAILURE"  # failed at once: no retry was scheduled


def test_beat_schedule_drains_within_its_interval() -> None:
    entry = beat_schedule(30)["smsbridge-resume"]
    assert entry["task"] == RESUME_TASK
    assert entry["schedule"] == 30
    assert entry["kwargs"]["timeout"] < 30


@pytest.mark.parametrize(
    ("task_id", "readable"),
    [
        ("1fccfe03-087c-4d70-98b7-64cdce5b7ae5", True),
        ("order/1234 resend", False),
        ("x" * 200, False),
        ("-leading-dash", False),
    ],
)
def test_every_task_id_gives_a_valid_distinct_reference(task_id: str, readable: bool) -> None:
    reference = task_reference(task_id)
    Message("+447700900123", "hi", None, reference)  # a valid reference, or this raises
    assert (reference == f"celery:{task_id}") is readable
    assert task_reference(task_id) == reference
    assert task_reference(task_id + "x") != reference


@pytest.mark.usefixtures("django_configured")
def test_a_django_projects_tasks_use_its_settings(tmp_path: Path) -> None:
    from django.test import override_settings

    site = {
        "region": "GB",
        "store": tmp_path / "site-outbox.sqlite3",
        "providers": {"clickatell": {"api_id": "1", "user": "u", "password": "p"}},
    }
    reset()
    try:
        with override_settings(SMSBRIDGE=site):
            outcome = enqueue_sms.apply(
                kwargs={"to": "07700 900601", "body": "Hi"}, task_id="django-1"
            ).get()
    finally:
        reset()
    assert outcome["references"] == ["celery:django-1"]
    with SqliteStore(tmp_path / "site-outbox.sqlite3") as store:
        item = store.get("celery:django-1")
        assert item is not None and item.recipient == "+447700900601"
