"""A Celery application that queues text messages and drains the outbox.

Run it with ``python examples/celery_app.py`` (needs ``pip install 'smsbridge[celery]'
redis`` and Debian's ``redis-server``). It needs no account and no running services:
it starts a Redis server on a free loopback port as the broker, the Clickatell emulator,
and a Celery worker for this module (``celery -A celery_app worker``), then:

1. enqueues one message to three numbers with ``smsbridge.enqueue``;
2. delivers the *same* task again, as a broker does after a lost acknowledgement: it
   writes nothing, because the reference (from the task id) is already in the outbox;
3. drains the outbox with ``smsbridge.resume``, the task beat runs every minute.

It prints what each step returned and how many times the emulator accepted each number.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from celery import Celery

import smsbridge.contrib.celery as sms

HERE = Path(__file__).resolve().parent
NUMBERS = ["+447700900123", "+447700900456", "+33612345678"]

app = Celery(
    "celery_app",
    broker=os.environ.get("EXAMPLE_BROKER", "redis://127.0.0.1:6379/0"),
    backend=os.environ.get("EXAMPLE_BROKER", "redis://127.0.0.1:6379/0"),
)
app.conf.update(
    include=["smsbridge.contrib.celery"],
    # The configuration file, as the worker reads it; credentials come from *_env.
    smsbridge_config=os.environ.get("EXAMPLE_SMSBRIDGE_CONFIG"),
    beat_schedule={**sms.beat_schedule(every=60)},
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


def _config(folder: Path, emulator: Any) -> Path:
    path = folder / "smsbridge.toml"
    path.write_text(
        'region = "GB"\nstore = "outbox.sqlite3"\n'
        f'[providers.clickatell]\nbase_url = "{emulator.url}"\n'
        'api_id_env = "CLICKATELL_API_ID"\nuser_env = "CLICKATELL_USER"\n'
        'password_env = "CLICKATELL_PASSWORD"\n',
        encoding="utf-8",
    )
    return path


def main() -> int:
    """Start Redis, the emulator and a worker; enqueue twice; drain; count."""
    from smsbridge.testing.redis import RedisServer
    from smsbridge_clickatell.emulator import ClickatellEmulator

    with (
        RedisServer.start() as redis,
        ClickatellEmulator() as emulator,
        tempfile.TemporaryDirectory() as folder,
    ):
        env = {
            **os.environ,
            "EXAMPLE_BROKER": redis.url,
            "EXAMPLE_SMSBRIDGE_CONFIG": str(_config(Path(folder), emulator)),
            "CLICKATELL_API_ID": emulator.api_id,
            "CLICKATELL_USER": emulator.user,
            "CLICKATELL_PASSWORD": emulator.password,
            "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "--pool=solo",
             "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
            cwd=HERE, env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr,
        )  # fmt: skip
        client = Celery("client", broker=redis.url, backend=redis.url)
        try:
            kwargs = {"to": NUMBERS, "body": "Your order has shipped"}
            task_id = str(uuid.uuid4())
            first = client.send_task("smsbridge.enqueue", kwargs=kwargs, task_id=task_id)
            print("enqueue:      ", first.get(timeout=60))
            first.forget()  # the redelivered task's result is stored afresh
            again = client.send_task("smsbridge.enqueue", kwargs=kwargs, task_id=task_id)
            print("enqueue again:", again.get(timeout=60))
            drained = client.send_task("smsbridge.resume", kwargs={"timeout": 30})
            print("resume:       ", drained.get(timeout=60))
        finally:
            worker.terminate()
            worker.wait(30)
            client.close()
        accepted = emulator.submissions.accepted_recipients()
    for number in NUMBERS:
        print(f"{number:<15} accepted {accepted[number]} time(s)")
    return 0 if all(accepted[number] == 1 for number in NUMBERS) else 1


if __name__ == "__main__":
    sys.exit(main())
