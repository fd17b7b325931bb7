"""The shared sandbox machinery: limits, idempotency, faults, state files, runner and control endpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from kcc_desktop.sandbox.faults import FaultConfig, FaultInjector
from kcc_desktop.sandbox.http import Headers, Request, Response
from kcc_desktop.sandbox.idempotency import CONFLICT, NEW, REPLAY, IdempotencyStore, fingerprint
from kcc_desktop.sandbox.limits import RateLimiter, merge_limits
from kcc_desktop.sandbox.runner import add_arguments, make_provider, options_from_args
from kcc_desktop.sandbox.state import dumps_exact, load_state, save_state
from kcc_desktop.sandbox.testing import sandbox_call

REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


# --- limits -----------------------------------------------------------------------------------------

def test_minute_window_slides_and_reports_retry_after():
    clock = FakeClock()
    lim = RateLimiter({"minute": 2, "day": 10}, clock=clock)
    for _ in range(2):
        assert lim.acquire("t").allowed
        lim.release("t")
    clock.t += 20
    hit = lim.acquire("t")
    assert (hit.allowed, hit.problem, hit.retry_after, hit.retry_after_header) == (False, "minute", 40.0, "40")
    assert hit.remaining == {"minute": 0, "day": 8}
    clock.t += 40
    assert lim.acquire("t").allowed  # the oldest call left the window
    assert lim.acquire("other").allowed  # limits are per tenant


def test_day_limit_wins_over_minute_and_time_scale_shrinks_windows():
    clock = FakeClock()
    lim = RateLimiter({"minute": 5, "day": 2}, time_scale=1 / 60, clock=clock)  # a "minute" is 1 s
    lim.acquire(), lim.acquire()
    hit = lim.acquire()
    assert hit.problem == "day" and hit.retry_after == pytest.approx(1440.0)
    clock.t += 1441
    assert lim.acquire().allowed


def test_concurrency_counts_calls_in_flight():
    lim = RateLimiter({"concurrent": 1})
    assert lim.acquire().allowed
    hit = lim.acquire()
    assert hit.problem == "concurrent" and hit.retry_after_header == "1"
    lim.release()
    assert lim.acquire().allowed


def test_limit_aliases_and_unknown_windows():
    assert merge_limits({"minute": 60}, {"per_minute": 3, "in_flight": 2}) == {"minute": 3, "concurrent": 2}
    with pytest.raises(ValueError):
        RateLimiter({"fortnight": 1})


# --- idempotency ------------------------------------------------------------------------------------

def _req(body=b"{}", path="/x"):
    return Request("PUT", path, {}, Headers({}), body)


def test_idempotency_replay_conflict_and_expiry():
    clock = FakeClock()
    store = IdempotencyStore(window_seconds=360, clock=clock)
    fp = fingerprint(_req(b'{"a": 1}'))
    assert store.lookup("k", fp) == (NEW, None)
    store.store("k", fp, Response(200, {}, b"first", drop_connection=True))
    outcome, resp = store.lookup("k", fp)
    assert outcome == REPLAY and resp.body == b"first" and resp.drop_connection is False
    assert store.lookup("k", fingerprint(_req(b'{"a": 2}')))[0] == CONFLICT
    clock.t += 361
    assert store.lookup("k", fingerprint(_req(b'{"a": 2}')))[0] == NEW


# --- faults -----------------------------------------------------------------------------------------

def test_faults_are_seeded_and_counted():
    def run(seed):
        inj = FaultInjector(FaultConfig(error_rate=0.5, seed=seed), sleep=lambda s: None)
        return [inj.before_call() for _ in range(20)]

    assert run(3) == run(3) and run(3) != run(4)
    assert set(run(3)) == {None, "500", "503"} or set(run(3)) <= {None, "500", "503"}
    inj = FaultInjector({"forced_429": 2, "drop_after_commit_count": 1})
    assert [inj.take_forced_429() for _ in range(3)] == [True, True, False]
    assert [inj.drop_after_commit() for _ in range(2)] == [True, False]
    assert inj.counts["forced_429"] == 2 and inj.counts["dropped"] == 1
    with pytest.raises(ValueError):
        inj.configure({"nonsense": 1})


def test_latency_and_timeout_sleep_through_the_hook():
    slept = []
    inj = FaultInjector(FaultConfig(latency=0.25, timeout_rate=1.0, timeout_seconds=9), sleep=slept.append)
    assert inj.before_call() == "timeout" and slept == [0.25, 9]


# --- state and exact JSON ---------------------------------------------------------------------------

def test_state_roundtrip_keeps_types(tmp_path):
    data = {"amount": Decimal("120.50"), "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            "nested": [{"d": Decimal("-0.01")}]}
    path = tmp_path / "s.json"
    save_state(path, data)
    assert load_state(path) == data and load_state(tmp_path / "none.json") is None
    assert '"120.50"' in path.read_text()  # Decimals kept as strings on disk
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_dumps_exact_writes_decimals_as_numbers():
    text = dumps_exact({"a": Decimal("120.50"), "b": Decimal("0.10"), "s": "120.50"})
    assert text == '{"a": 120.50, "b": 0.10, "s": "120.50"}'
    assert json.loads(text, parse_float=Decimal)["a"] == Decimal("120.50")


# --- runner and control endpoints -------------------------------------------------------------------

def test_unknown_provider():
    with pytest.raises(ValueError):
        make_provider("sage")


def test_cli_options_map_to_provider_options():
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--per-minute", "3", "--latency", "0.5", "--forced-429", "2", "--time-scale", "0.1",
                              "--tenants", "2"])
    opts = options_from_args(args)
    assert opts["limits"] == {"minute": 3} and opts["time_scale"] == 0.1 and opts["tenants"] == 2
    assert opts["faults"].latency == 0.5 and opts["faults"].forced_429 == 2


@pytest.mark.posix_signals
def test_cli_prints_one_json_line_and_stops_on_sigterm(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "kcc_desktop.sandbox.runner", "--provider", "xero",
                             "--state", str(tmp_path / "x.json")], stdout=subprocess.PIPE, text=True, env=env)
    try:
        info = json.loads(proc.stdout.readline())
        assert info["provider"] == "xero" and info["urls"]["api_url"].startswith("http://127.0.0.1:")
        for key in ("root", "api_url", "authorize_url", "token_url", "connections_url"):
            assert info[key].startswith("http://127.0.0.1:")
        assert requests.get(info["root"] + "/_sandbox/stats", timeout=5).json()["provider"] == "xero"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (tmp_path / "x.json").exists()


def test_stats_count_by_endpoint_pattern(xero, xero_urls):
    for _ in range(2):
        xero.accounting.get_invoices(xero.tenant_id)
    requests.get(xero_urls["api_url"] + "/Invoices/6b1f2e8e-0000-4000-8000-000000000000",
                 headers={"Authorization": f"Bearer {xero.token['access_token']}", "xero-tenant-id": xero.tenant_id})
    stats = sandbox_call(xero_urls, "stats", method="GET")
    assert stats["by_endpoint"]["GET /api.xro/2.0/Invoices"] == 2
    assert stats["by_endpoint"]["GET /api.xro/2.0/Invoices/{id}"] == 1
    assert stats["by_status"]["404"] == 1 and stats["by_method"]["GET"] >= 3


def test_stats_set_back_to_zero_start_a_new_span_of_requests(xero, xero_urls):
    xero.accounting.get_invoices(xero.tenant_id)
    cleared = sandbox_call(xero_urls, "stats", {})
    assert cleared["requests"] == 0 and cleared["by_endpoint"] == {}
    assert cleared["first_request_at"] is None and cleared["last_answer_at"] is None
    xero.accounting.get_invoices(xero.tenant_id)
    xero.accounting.get_contacts(xero.tenant_id)
    stats = sandbox_call(xero_urls, "stats", method="GET")
    assert stats["requests"] == 2 and set(stats["by_endpoint"]) == {"GET /api.xro/2.0/Invoices",
                                                                     "GET /api.xro/2.0/Contacts"}
    assert 0 < stats["first_request_at"] <= stats["last_answer_at"]
    # The benchmarks' span covers the API's requests only, not these reads of the counts.
    assert sandbox_call(xero_urls, "stats", method="GET")["last_answer_at"] == stats["last_answer_at"]


def test_control_endpoint_errors(xero_urls):
    assert requests.post(xero_urls["root"] + "/_sandbox/nothing").status_code == 404
    assert requests.post(xero_urls["root"] + "/_sandbox/faults", json={"bogus": 1}).status_code == 400
    cfg = requests.post(xero_urls["root"] + "/_sandbox/faults", json={"latency": 0.01}).json()
    assert cfg["latency"] == 0.01
    assert requests.post(xero_urls["root"] + "/_sandbox/faults", json={"replace": True}).json()["latency"] == 0


def test_state_and_limits_control_endpoints(xero, xero_urls):
    state = requests.get(xero_urls["root"] + "/_sandbox/state").json()
    assert state["version"] == 1 and xero.tenant_id in state["tenants"]
    out = sandbox_call(xero_urls, "limits", {"per_minute": 7, "time_scale": 0.5})
    assert out["limits"]["minute"] == 7 and out["time_scale"] == 0.5


def test_a_server_never_started_stops_at_once_and_frees_its_port():
    """socketserver's shutdown() waits for serve_forever to end: on a server never started that was forever."""
    import socket
    import threading

    from kcc_desktop.sandbox.http import SandboxServer

    server = SandboxServer(make_provider("xero"))
    host, port = server.httpd.server_address[:2]
    stopping = threading.Thread(target=server.stop, daemon=True)   # daemon: a hang fails the test, not the run
    stopping.start()
    stopping.join(30)
    assert not stopping.is_alive()
    with socket.socket() as again:   # the port is free: the listening socket was closed
        again.bind((host, port))
