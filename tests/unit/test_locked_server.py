"""A Prefect server of the product listens beyond loopback only with Prefect's basic auth,
and the stack hands the credential to every process as a client's, to the server alone
as the server's."""

from __future__ import annotations

from pathlib import Path

import pytest

from complaints import cli
from complaints.orchestration import server
from complaints.orchestration.server import exposure_refusal, is_loopback
from embedded.stack import Stack


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.0.0.53", "127.255.255.254", "::1", "[::1]", "localhost", "LocalHost."],
)
def test_loopback_hosts_are_reached_from_this_machine_only(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "0.0.0.0",
        "::",
        "",
        "192.168.1.20",
        "10.0.0.5",
        "fe80::1",
        "complaints.internal",
        "localhost.example.com",
        "127.1",  # not an address Python reads; a resolver may read it as anything
    ],
)
def test_wildcards_other_addresses_and_names_are_the_network(host: str) -> None:
    assert not is_loopback(host)


def test_a_server_beyond_loopback_without_a_credential_is_refused_naming_the_setting() -> None:
    refusal = exposure_refusal("0.0.0.0", None)
    assert refusal is not None and "\n" not in refusal
    assert "PREFECT_SERVER_API_AUTH_STRING" in refusal and "0.0.0.0" in refusal
    assert exposure_refusal("0.0.0.0", "") == refusal  # an empty credential is none


def test_loopback_needs_no_credential_and_any_host_may_listen_with_one() -> None:
    assert exposure_refusal("127.0.0.1", None) is None
    assert exposure_refusal("0.0.0.0", "admin:s3cret") is None
    assert exposure_refusal("::", "admin:s3cret") is None


def test_complaints_up_beyond_loopback_without_a_credential_exits_2_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PREFECT_SERVER_API_AUTH_STRING", raising=False)
    assert cli.main(["up", "--host", "0.0.0.0", "--no-demo"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "PREFECT_SERVER_API_AUTH_STRING" in err


def test_the_production_server_beyond_loopback_without_a_credential_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from prefect.settings import PREFECT_SERVER_API_AUTH_STRING, temporary_settings

    with (
        temporary_settings(restore_defaults={PREFECT_SERVER_API_AUTH_STRING}),
        pytest.raises(SystemExit) as exited,
    ):
        server.main(["--host", "0.0.0.0", "--port", "1"])
    assert exited.value.code == 2
    assert "PREFECT_SERVER_API_AUTH_STRING" in capsys.readouterr().err


def test_clients_get_the_credential_as_clients_and_only_the_server_as_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_SERVER_API_AUTH_STRING", raising=False)
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    locked = Stack(tmp_path, host="0.0.0.0", extra_env={"PREFECT_SERVER_API_AUTH_STRING": "a:b"})
    assert locked.env()["PREFECT_API_AUTH_STRING"] == "a:b"
    assert "PREFECT_SERVER_API_AUTH_STRING" not in locked.env()
    assert locked.server_env()["PREFECT_SERVER_API_AUTH_STRING"] == "a:b"
    assert locked.api_url.startswith("http://127.0.0.1:")  # this machine reaches it there
    assert locked.env()["PREFECT_UI_API_URL"] == "/api"  # a browser, where it found the UI

    open_ = Stack(tmp_path)
    assert "PREFECT_API_AUTH_STRING" not in open_.env()
    assert "PREFECT_SERVER_API_AUTH_STRING" not in open_.server_env()
    assert open_.env()["PREFECT_UI_API_URL"] == open_.api_url
