"""The outbox delivered: webhooks get each row signed, retried with back-off, dead-lettered
after the last attempt; apps poll after a cursor and acknowledge; a deliverer killed
mid-delivery loses nothing. On SQLite and a real PostgreSQL server, with a real HTTP
receiver on 127.0.0.1 that checks the signatures itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.delivery import NotificationFeed, RetryPolicy, Webhook, sign, verify
from engine.delivery.deliverer import Deliverer
from engine.runtime import Actor, Engine, ManualClock
from engine.store import OutboxItem, Store
from engine.store import outbox as stored
from tests.conftest import ROOT, run_cli, validated_library
from tests.webhook_receiver import Receiver

SECRET = "s3cret-of-the-estate"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class Clock:
    """A settable "now" for the deliverer's leases and back-off."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment


def write_rows(store: Store, estate: str, kinds: list[str]) -> list[int]:
    """Outbox rows of no case, as a quota writes them; their ids."""
    items = [
        OutboxItem(None, kind, "manager", f"第{n}条", {"n": n}, T0, estate=estate)
        for n, kind in enumerate(kinds)
    ]
    store.commit((), at=T0, outbox=items)
    return [i.id for i in stored.waiting(store, estate, limit=10_000) if i.id is not None][
        -len(kinds) :
    ]


def hook(receiver: Receiver, estate: str = "lakeside", **kinds: frozenset[str]) -> Webhook:
    return Webhook(url=receiver.url, secret=SECRET, estate=estate, **kinds)


def test_signatures_cover_the_exact_body() -> None:
    body = '{"kind": "escalate", "message": "报修"}'.encode()
    signature = sign(SECRET, body)
    assert signature.startswith("sha256=") and verify(SECRET, body, signature)
    assert not verify(SECRET, body + b" ", signature)
    assert not verify("another", body, signature)


def test_a_webhook_is_an_http_url_with_a_secret() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        Webhook(url="file:///etc/passwd", secret=SECRET, estate="lakeside")
    with pytest.raises(ValueError):
        Webhook(url="https://example.com/h", secret="", estate="lakeside")


def test_each_row_arrives_signed_with_its_delivery_id_and_is_marked_delivered(
    store_url: str,
) -> None:
    store = Store(store_url)
    ids = write_rows(store, "lakeside", ["notify", "escalate", "warning"])
    other = write_rows(store, "tingtao", ["notify"])
    with Receiver(SECRET) as receiver:
        deliverer = Deliverer(store, [hook(receiver)], clock=Clock(T0))
        assert stored.backlog(store, "lakeside") == 3
        assert deliverer.deliver().delivered == 3
        assert deliverer.deliver().claimed == 0
        deliverer.close()
    assert (stored.backlog(store, "lakeside"), stored.backlog(store)) == (0, 1)
    assert sorted(receiver.ids()) == ids
    assert all(a.signed for a in receiver.arrivals)
    first = next(a for a in receiver.arrivals if int(a.delivery_id) == ids[1])
    assert first.kind == "escalate" and first.body["estate"] == "lakeside"
    assert first.body["message"] == "第1条" and first.body["id"] == ids[1]
    delivered = {i.id: i for i in store.outbox_items()}
    assert all(delivered[i].delivered_at == T0 for i in ids)
    # Another estate's rows are not this webhook's: still waiting for their own.
    assert [i.id for i in stored.waiting(store)] == other
    store.close()


def test_a_webhook_takes_only_its_kinds(store_url: str) -> None:
    store = Store(store_url)
    ids = write_rows(store, "lakeside", ["notify", "escalate", "warning"])
    with Receiver(SECRET) as receiver:
        deliverer = Deliverer(
            store, [hook(receiver, kinds=frozenset({"escalate"}))], clock=Clock(T0)
        )
        deliverer.deliver()
        deliverer.close()
    assert receiver.ids() == [ids[1]]
    assert [i.id for i in stored.waiting(store, "lakeside")] == [ids[0], ids[2]]
    store.close()


def test_failures_back_off_exponentially_then_the_row_is_dead_and_listed(
    store_url: str,
) -> None:
    store = Store(store_url)
    [row] = write_rows(store, "lakeside", ["escalate"])
    clock = Clock(T0)
    policy = RetryPolicy(max_attempts=3, first_delay=timedelta(seconds=10))
    with Receiver(SECRET, status=500) as receiver:
        deliverer = Deliverer(store, [hook(receiver)], policy=policy, clock=clock)
        assert deliverer.deliver().failed == 1
        [item] = stored.waiting(store)
        assert (item.attempts, item.next_attempt_at) == (1, T0 + timedelta(seconds=10))
        assert item.last_error is not None and "answered 500" in item.last_error
        clock.moment = T0 + timedelta(seconds=9)
        assert deliverer.deliver().claimed == 0  # not due yet
        clock.moment = T0 + timedelta(seconds=10)
        assert deliverer.deliver().failed == 1
        [item] = stored.waiting(store)
        assert item.next_attempt_at == clock.moment + timedelta(seconds=20)
        clock.moment += timedelta(seconds=20)
        assert deliverer.deliver().dead == 1
        assert (deliverer.total.failed, deliverer.total.dead) == (2, 1)
        clock.moment += timedelta(days=1)
        assert deliverer.deliver().claimed == 0  # dead rows are never tried again
        deliverer.close()
    assert stored.waiting(store) == []
    [dead] = stored.dead(store, "lakeside")
    assert (dead.id, dead.attempts, dead.dead_at) == (row, 3, T0 + timedelta(seconds=30))
    assert dead.delivered_at is None
    store.close()
    listed = run_cli(["outbox", "list", "--dead", "--db", store_url, "--json"])
    assert listed.exit_code == 0, listed.output
    assert [(r["id"], r["attempts"]) for r in json.loads(listed.output)] == [(row, 3)]


def test_an_unreachable_webhook_is_a_failed_attempt(store_url: str) -> None:
    store = Store(store_url)
    write_rows(store, "lakeside", ["notify"])
    with Receiver(SECRET) as receiver:
        url = receiver.url
    unreachable = Webhook(url=url, secret=SECRET, estate="lakeside")  # nobody listens now
    deliverer = Deliverer(store, [unreachable], clock=Clock(T0), timeout=2)
    assert deliverer.deliver().failed == 1
    deliverer.close()
    [item] = stored.waiting(store)
    assert item.last_error is not None and url in item.last_error
    store.close()


def test_a_row_whose_lease_ran_out_is_claimed_again(store_url: str) -> None:
    """A deliverer that claimed rows and died: nobody else takes them until its lease
    ends, then the next deliverer does."""
    store = Store(store_url)
    ids = write_rows(store, "lakeside", ["notify", "notify"])
    routes = [stored.Route("lakeside")]
    lease = T0 + timedelta(minutes=5)
    taken = stored.claim(store, routes, owner="gone", now=T0, lease_until=lease, limit=10)
    assert [i.id for i in taken] == ids
    clock = Clock(T0 + timedelta(minutes=1))
    with Receiver(SECRET) as receiver:
        deliverer = Deliverer(store, [hook(receiver)], clock=clock)
        assert deliverer.deliver().claimed == 0
        clock.moment = lease
        assert deliverer.deliver().delivered == 2
        deliverer.close()
    assert sorted(receiver.ids()) == ids
    store.close()


def test_two_deliverers_at_once_send_each_row_once(store_url: str) -> None:
    """Claims exclude each other (SKIP LOCKED on PostgreSQL, the write lock on SQLite):
    with no deliverer dying, no row is sent twice."""
    store = Store(store_url)
    ids = write_rows(store, "lakeside", ["notify"] * 60)
    with Receiver(SECRET, delay=0.005) as receiver:
        deliverers = [Deliverer(store, [hook(receiver)], batch=5) for _ in range(2)]

        def drain(deliverer: Deliverer) -> None:
            while stored.backlog(store, "lakeside"):
                deliverer.deliver()

        threads = [threading.Thread(target=drain, args=(d,)) for d in deliverers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        for deliverer in deliverers:
            deliverer.close()
    assert sorted(receiver.ids()) == ids
    assert all(d.total.delivered > 0 for d in deliverers), "both took a share"
    store.close()


def test_apps_poll_after_a_cursor_and_acknowledge_their_estate_only(store_url: str) -> None:
    store = Store(store_url)
    ids = write_rows(store, "lakeside", ["notify", "escalate", "warning"])
    [theirs] = write_rows(store, "tingtao", ["notify"])
    feed = NotificationFeed(store, "lakeside")
    batch = feed.read(limit=2)
    assert [n.id for n in batch.notifications] == ids[:2] and batch.cursor == ids[1]
    rest = feed.read(after=batch.cursor)
    assert [n.id for n in rest.notifications] == ids[2:] and rest.cursor == ids[2]
    assert feed.read(after=rest.cursor).notifications == ()
    assert feed.read(after=rest.cursor).cursor == rest.cursor
    assert feed.acknowledge([ids[0], theirs]) == [ids[0]]  # not another estate's row
    assert feed.acknowledge([ids[0]]) == []  # once
    assert [n.id for n in feed.read().notifications] == ids[1:]
    assert [n.id for n in NotificationFeed(store, "tingtao").read().notifications] == [theirs]
    with pytest.raises(ValueError, match="cursor"):
        feed.read(after=-1)
    with pytest.raises(ValueError, match="1 to 1000"):
        feed.read(limit=0)
    store.close()
    listed = run_cli(["outbox", "list", "--db", store_url, "--estate", "estates/lakeside"])
    assert listed.exit_code == 0, listed.output
    assert [line.split()[0] for line in listed.output.splitlines()] == [str(i) for i in ids[1:]]
    assert "第1条" in listed.output and "[waiting]" in listed.output
    lakeside = ["--db", store_url, "--estate", "estates/lakeside"]
    acked = run_cli(["outbox", "ack", *lakeside, str(ids[1])])
    assert acked.exit_code == 0 and f"acknowledged 1: {ids[1]}" in acked.output
    refused = run_cli(["outbox", "ack", *lakeside, str(theirs)])
    assert refused.exit_code == 1


def test_an_escalation_written_by_a_timer_reaches_the_webhook(store_url: str) -> None:
    """End to end: a repair breaches its limit, the worker's tick writes the escalation,
    the deliverer pushes it with the case named."""
    clock = ManualClock(T0)
    engine = Engine(validated_library(), store_url, clock)
    receptionist = Actor("li", {"receptionist"})
    opening = {"scope": "in_unit", "unit": "3-1201", "owner_name": "王先生"}
    case = engine.open_case("repair", opening, receptionist).id
    form = {"phone": "13800138000", "content": "墙面开裂", "location": "客厅", "category": "civil"}
    engine.fire(case, "record", receptionist, form)
    clock.advance(timedelta(days=4))
    engine.tick()
    with Receiver(SECRET) as receiver:
        deliverer = Deliverer(engine.store, [hook(receiver, estate="standard")], clock=clock.now)
        deliverer.deliver()
        deliverer.close()
    escalations = [a.body for a in receiver.arrivals if a.kind == "escalate"]
    words = (
        f"报修处理 {case}：一般项目3天内解决已超时，截止 2026-03-05 09:00，升级至物业服务中心负责人"
    )
    assert [(body["case_id"], body["message"]) for body in escalations] == [(case, words)]
    assert escalations[0]["payload"]["deadline"] == "2026-03-05T09:00+08:00"
    # A warning names its process, limit and deadline as an escalation does, so that a
    # receiver routes both by the same fields.
    warnings = [a.body["payload"] for a in receiver.arrivals if a.kind == "warning"]
    assert warnings and all(
        payload.keys() >= {"process", "hook", "limit", "deadline"}
        and (payload["process"], payload["hook"]) == ("repair", "warning")
        for payload in warnings
    ), warnings
    assert all(item.delivered_at is not None for item in engine.outbox(case))
    engine.close()


#: A deliverer run as its own process: ``propflow worker --webhook``, killed by the test.
def start_worker(url: str, receiver: Receiver, lease: float, log: Path) -> subprocess.Popen[str]:
    with log.open("w") as stderr:  # a file, never a pipe nobody reads: the worker logs a lot
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engine.cli",
                "worker",
                "--db",
                url,
                "--interval",
                "0.05",
                "--webhook",
                receiver.url,
                "--webhook-lease",
                str(lease),
            ],
            cwd=ROOT,
            env={**os.environ, "PROPFLOW_WEBHOOK_SECRET": SECRET},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )


@pytest.mark.slow
def test_a_deliverer_killed_mid_delivery_loses_no_row(store_url: str, tmp_path: Path) -> None:
    """SIGKILL ``propflow worker`` while it pushes 120 rows to a slow receiver, then start
    another: every row arrives at least once, every row ends delivered."""
    store = Store(store_url)
    ids = write_rows(store, "standard", ["notify"] * 120)
    with Receiver(SECRET, delay=0.02) as receiver:
        first = start_worker(store_url, receiver, 2.0, tmp_path / "first.log")
        deadline = time.monotonic() + 120
        while len(receiver.ids()) < 30 and time.monotonic() < deadline:
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        arrived_before = set(receiver.ids())
        assert 30 <= len(arrived_before) < len(ids), "killed mid-delivery"
        second = start_worker(store_url, receiver, 2.0, tmp_path / "second.log")
        try:
            while stored.waiting(store) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=60)
        log = (tmp_path / "second.log").read_text(encoding="utf-8")
        assert second.returncode == 0, log
        assert "delivered notify" in log
    assert set(receiver.ids()) == set(ids), "every row arrived"
    assert all(a.signed for a in receiver.arrivals)
    assert all(i.delivered_at is not None for i in store.outbox_items())
    store.close()


def test_propflow_worker_once_delivers_to_its_webhook(tmp_path: Path) -> None:
    db = f"{tmp_path}/cases.db"
    store = Store(db)
    ids = write_rows(store, "standard", ["notify", "escalate"])
    write_rows(store, "lakeside", ["notify"])  # not the worker's estate
    store.close()
    env = {"PROPFLOW_WEBHOOK_SECRET": SECRET}
    with Receiver(SECRET) as receiver:
        result = run_cli(["worker", "--once", "--db", db, "--webhook", receiver.url], env=env)
    assert result.exit_code == 0, result.output
    assert "delivered 2, failed 0, dead 0" in result.output
    assert sorted(receiver.ids()) == ids and all(a.signed for a in receiver.arrivals)


def test_propflow_worker_pushes_to_each_deployment_webhook_the_estates_it_takes(
    tmp_path: Path,
) -> None:
    """One webhook of the deployment file takes every estate's notices, the other all of
    tingtao's; lakeside's escalation is no webhook's and stays waiting."""
    store = Store(f"sqlite:///{tmp_path / 'cases.db'}")
    notices = {estate: write_rows(store, estate, ["notify", "escalate"]) for estate in (
        "lakeside", "tingtao")}  # fmt: skip
    with Receiver(SECRET) as everywhere, Receiver("tingtao-secret") as tingtao:
        config = tmp_path / "propflow.yaml"
        config.write_text(
            f"deployment: pushing\nstore: cases.db\nestates: {ROOT / 'estates'}\nwebhooks:\n"
            f"  - {{url: '{everywhere.url}', secret: {SECRET}, kinds: [notify]}}\n"
            f"  - {{url: '{tingtao.url}', secret: tingtao-secret, estates: [tingtao]}}\n",
            encoding="utf-8",
        )
        result = run_cli(["worker", "--once", "--config", str(config)])

        def written(receiver: Receiver) -> list[tuple[str, str]]:
            return sorted(
                (a.body["estate"], a.kind)
                for a in receiver.arrivals
                if a.signed and a.body["id"] in notices[a.body["estate"]]
            )

        assert result.exit_code == 0, result.output
        assert written(everywhere) == [("lakeside", "notify"), ("tingtao", "notify")]
        assert written(tingtao) == [("tingtao", "escalate"), ("tingtao", "notify")]
    assert [i.id for i in stored.waiting(store, "lakeside") if i.id in notices["lakeside"]] == [
        notices["lakeside"][1]
    ]
    store.close()


@pytest.mark.parametrize(
    "args",
    [
        ["--webhook", "http://127.0.0.1:9/h"],  # no secret
        ["--webhook-secret", SECRET],  # a secret for no webhook
        ["--webhook", "ftp://127.0.0.1/h", "--webhook-secret", SECRET],
    ],
)
def test_propflow_worker_refuses_a_webhook_it_cannot_use(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(["worker", "--once", "--db", f"{tmp_path}/cases.db", *args])
    assert result.exit_code == 2, result.output
