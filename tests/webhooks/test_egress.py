"""Webhooks and the egress guard (issue 13): internal targets are refused when a subscription is
saved (422, nothing stored), a bad URL stored behind Charter's back never leaves a delivery stuck
"delivering", and the delivery log keeps status, timing and at most 1 KB of a textual answer,
never the receiver's headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter.config import Settings, load_settings
from charter.webhooks.tables import webhook_subscriptions
from tests.conftest import auth
from tests.content.releasing import CAREERS_PAGE, post
from tests.services import free_port
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_webhooks import FAST, subscribe, wait_for

#: The webhook targets of issue 13 (and relatives) that must be refused when saved.
ISSUE_TARGETS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://10.0.0.1/",
    "http://[::1]/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://[::ffff:169.254.169.254]/",
    "http://example.com:99999/",
    "http://example.com/hook\r\nX-Injected: 1",
    "http://user:pw@example.com/",
    "ftp://example.com/x",
    "not a url",
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(free_port()).start()
    yield r
    r.stop()


@pytest.fixture
def settings(project_dir: Path, database_url: str, services: frozenset[str]) -> Settings:
    return load_settings(
        project_dir, database_url=database_url, trace_exporter="memory", webhooks=FAST, worker="worker" in services
    )


def test_internal_and_malformed_targets_are_refused_when_saved(project_dir: Path, database_url: str) -> None:
    from charter.app import create_app
    from charter.auth.roles import SYSTEM
    from charter.auth.tokens import create_token
    from charter.demo import load_demo_content
    from charter.runtime import Runtime

    # A project without an allow-list: loopback is internal like everything else.
    settings = load_settings(project_dir, database_url=database_url, trace_exporter="memory", egress={})
    rt = Runtime.open(settings)
    try:
        load_demo_content(rt)
        token = create_token(rt, SYSTEM, "t", "admin")[0]
        with TestClient(create_app(settings, runtime=rt), raise_server_exceptions=False) as client:
            for target in ISSUE_TARGETS:
                body = {"url": target, "event_types": ["*"]}
                r = client.post("/v1/manage/webhooks", json=body, headers=auth(token))
                assert r.status_code == 422, (target, r.text)
                assert r.headers["content-type"] == "application/problem+json"
                assert r.json()["errors"][0]["pointer"] == "/url"
            assert client.get("/v1/manage/webhooks", headers=auth(token)).json() == []
    finally:
        rt.close()


@pytest.mark.services("worker")  # the worker relays the outbox and delivers
def test_a_bad_url_stored_behind_charters_back_is_recorded_not_stuck(
    client: TestClient, tokens: dict[str, str], receiver: Receiver, runtime: Any
) -> None:
    sub = subscribe(client, tokens, receiver, ["entry.published"])
    with runtime.write() as (conn, _):  # as an older version could have stored it
        conn.execute(
            sa.update(webhook_subscriptions)
            .where(webhook_subscriptions.c.id == sub["id"])
            .values(url=receiver.url + "\r\nX-Injected: 1")
        )
    post(client, f"/v1/manage/entries/{CAREERS_PAGE}/publish", tokens["publisher"])
    h = auth(tokens["admin"])
    dead = wait_for(lambda: client.get(f"/v1/manage/webhooks/{sub['id']}/deliveries?status=dead", headers=h).json())
    detail = client.get(f"/v1/manage/webhooks/deliveries/{dead[0]['id']}", headers=h).json()
    assert all(a["error"].startswith("refused: the URL contains") for a in detail["log"])
    assert receiver.requests == []


@pytest.mark.services("worker")  # the worker relays the outbox and delivers
def test_the_log_keeps_1_kb_of_text_and_no_headers(
    client: TestClient, tokens: dict[str, str], receiver: Receiver
) -> None:
    receiver.reply_body = ("internal secret " * 400).encode()
    receiver.reply_headers = {"content-type": "text/plain; charset=utf-8", "x-internal-token": "s3cr3t"}
    sub = subscribe(client, tokens, receiver, ["entry.published"])
    post(client, f"/v1/manage/entries/{CAREERS_PAGE}/publish", tokens["publisher"])
    h = auth(tokens["admin"])
    done = wait_for(
        lambda: client.get(f"/v1/manage/webhooks/{sub['id']}/deliveries?status=succeeded", headers=h).json()
    )
    r = client.get(f"/v1/manage/webhooks/deliveries/{done[0]['id']}", headers=h)
    entry = r.json()["log"][0]
    assert entry["status_code"] == 200 and entry["duration_ms"] > 0
    assert len(entry["response_body"].encode()) <= 1024 and entry["response_body"].startswith("internal secret")
    assert "s3cr3t" not in r.text and "x-internal-token" not in r.text

    receiver.reply_body = b"\x89PNG\r\n\x1a\n" + bytes(2000)
    receiver.reply_headers = {"content-type": "image/png"}
    post(client, f"/v1/manage/entries/{CAREERS_PAGE}/unpublish", tokens["publisher"])
    post(client, f"/v1/manage/entries/{CAREERS_PAGE}/publish", tokens["publisher"])
    both = wait_for(
        lambda: (
            d
            if len(d := client.get(f"/v1/manage/webhooks/{sub['id']}/deliveries?status=succeeded", headers=h).json())
            == 2
            else None
        )
    )
    newest = client.get(f"/v1/manage/webhooks/deliveries/{both[0]['id']}", headers=h).json()
    assert newest["log"][0]["response_body"] is None  # not text: nothing kept
