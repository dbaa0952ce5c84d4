"""Panics never cross into Python, and idflow's log lines reach Python's
``logging`` without a secret, with personal data only when asked for."""

from __future__ import annotations

import logging
from typing import Any, List

import pytest

import idflow
import servers
from servers import (EMULATOR_CONFIDENTIAL, EMULATOR_PASSWORD, EMULATOR_PUBLIC,
                     EMULATOR_SECRET, EMULATOR_TENANT, EMULATOR_USER)

GRAPH = ["User.Read"]
GRAPH_APP = ["https://graph.microsoft.com/.default"]


def test_an_async_panic_is_an_internal_error_dict():
    result = idflow.self_test_panic_async()
    assert result["error"] == "internal_error", result
    assert result["error_kind"] == "client", result


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=1)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(f"{r.levelname} {r.getMessage()}" for r in self.records)


class _Broken(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        raise RuntimeError("this handler is broken")

    def handleError(self, record: logging.LogRecord) -> None:
        raise RuntimeError("and so is its error handling")


@pytest.fixture
def capture():
    logger = logging.getLogger("idflow")
    handler = _Capture()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(idflow.TRACE)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)
    idflow.configure_logging(enable_pii_log=False)


def _run_flows(admin: Any, pii: bool) -> List[str]:
    """Client credentials and ROPC, each a success and a failure; returns every
    secret involved (sent or issued)."""
    cca = servers.confidential_app(enable_pii_log=pii, timeout=None)
    pca = servers.public_app(enable_pii_log=pii, timeout=None)
    ok = cca.acquire_token_for_client(GRAPH_APP)
    ropc = pca.acquire_token_by_username_password(EMULATOR_USER, EMULATOR_PASSWORD, GRAPH)
    assert "access_token" in ok and "access_token" in ropc, (ok, ropc)
    bad = idflow.ConfidentialClientApplication(
        EMULATOR_CONFIDENTIAL, client_credential="WRONG-SECRET-5e6f",
        authority=servers.emulator_authority())
    assert bad.acquire_token_for_client(GRAPH_APP)["error"] == "invalid_client"
    wrong = pca.acquire_token_by_username_password(EMULATOR_USER, "WRONG-PASSWORD-7a8b", GRAPH)
    assert wrong["error"] == "invalid_grant", wrong
    return [EMULATOR_SECRET, EMULATOR_PASSWORD, "WRONG-SECRET-5e6f", "WRONG-PASSWORD-7a8b",
            ok["access_token"], ropc["access_token"], ropc["refresh_token"], ropc["id_token"]]


def test_log_lines_reach_logging_without_secrets_or_pii(capture, admin):
    secrets = _run_flows(admin, pii=False)
    text = capture.text()
    levels = {r.levelno for r in capture.records}
    assert {logging.DEBUG, logging.INFO, logging.WARNING} <= levels, text
    assert any(r.getMessage().startswith("request sent") and "correlation_id=" in r.getMessage()
               for r in capture.records), text
    assert any(r.levelno == logging.WARNING and "code=invalid_client" in r.getMessage()
               for r in capture.records), text
    assert all(r.name == "idflow" and r.idflow_contains_pii is False for r in capture.records), text
    for value in [EMULATOR_USER, EMULATOR_TENANT, *secrets]:
        assert value not in text, f"{value[:6]}... leaked into the log"


def test_pii_lines_are_flagged_and_still_hold_no_secret(capture, admin):
    secrets = _run_flows(admin, pii=True)
    text = capture.text()
    flagged = [r.getMessage() for r in capture.records if r.idflow_contains_pii]
    assert any(EMULATOR_USER in m for m in flagged), text
    assert any(EMULATOR_TENANT in m for m in flagged), text
    for value in secrets:
        assert value not in text, f"{value[:6]}... leaked into the log"


def test_a_broken_handler_does_not_break_a_sign_in(admin):
    logger = logging.getLogger("idflow")
    broken = _Broken()
    logger.addHandler(broken)
    logger.setLevel(logging.DEBUG)
    try:
        idflow.configure_logging()
        cca = idflow.ConfidentialClientApplication(
            EMULATOR_CONFIDENTIAL, client_credential=EMULATOR_SECRET, authority=servers.emulator_authority())
        assert "access_token" in cca.acquire_token_for_client(GRAPH_APP)
    finally:
        logger.removeHandler(broken)
        logger.setLevel(logging.NOTSET)
        idflow.configure_logging()


def test_without_a_handler_nothing_is_forwarded(admin):
    # Only the library's NullHandler: the native logger is removed.
    logger = logging.getLogger("idflow")
    assert all(isinstance(h, logging.NullHandler) for h in logger.handlers)
    idflow.configure_logging()
    cca = idflow.ConfidentialClientApplication(
        EMULATOR_CONFIDENTIAL, client_credential=EMULATOR_SECRET, authority=servers.emulator_authority())
    assert "access_token" in cca.acquire_token_for_client(GRAPH_APP)
