"""Races answered by the database: real concurrent clients over HTTP."""

from __future__ import annotations

import threading

import requests

from tests.conftest import DEFAULT_PASSWORD


def test_concurrent_registrations_of_one_email_create_exactly_one_account(live_server):
    clients = 8
    barrier = threading.Barrier(clients)
    statuses: list[int] = []
    lock = threading.Lock()

    def register(index: int) -> None:
        barrier.wait()
        response = requests.post(f"{live_server}/api/v1/auth/register", timeout=30, json={
            "email": "race@example.com", "password": DEFAULT_PASSWORD,
            "display_name": f"Racer {index}", "account_type": "artist"})
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [201] + [409] * (clients - 1)
    login = requests.post(f"{live_server}/api/v1/auth/login", timeout=30,
                          json={"email": "race@example.com", "password": DEFAULT_PASSWORD})
    assert login.status_code == 200
