"""Retry, client-side throttling and claims challenges through the msal-style
Python API, against the emulator (its request log is the evidence of what
reached the server), and the WWW-Authenticate helpers on the shared vectors
(testdata/www_authenticate.json, the same cases the Rust, Kotlin and Swift
suites run).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

import idflow
import servers
from servers import (EMULATOR_CONFIDENTIAL, EMULATOR_PASSWORD, EMULATOR_PUBLIC,
                     EMULATOR_SECRET, EMULATOR_TENANT, EMULATOR_USER)

GRAPH = ["User.Read"]
GRAPH_APP = ["https://graph.microsoft.com/.default"]
MFA_CLAIMS = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'


def _cca() -> Any:
    return servers.confidential_app(timeout=None)


def _tokens(admin: Any) -> List[Dict[str, Any]]:
    return [r for r in admin.requests() if r["endpoint"] == "token"]


def _claims_sent(record: Dict[str, Any]) -> Any:
    for name, value in record["params"]:
        if name == "claims":
            return json.loads(value)
    return None


# --- retry --------------------------------------------------------------------


def test_a_single_5xx_is_retried_once_and_succeeds(admin):
    admin.fault({"match": {"endpoint": "token"}, "count": 1,
                 "effect": {"kind": "status", "status": 500}})
    result = _cca().acquire_token_for_client(GRAPH_APP)
    assert "access_token" in result, result
    sent = _tokens(admin)
    assert [r["status"] for r in sent] == [500, 200], sent
    assert sent[0]["correlation_id"] == sent[1]["correlation_id"]


def test_503_with_retry_after_is_not_retried(admin):
    admin.preset("service_unavailable_503")
    result = _cca().acquire_token_for_client(GRAPH_APP)
    assert result["error"] == "service_not_available", result
    assert result["retry_after"] == 5 and result["action"] == "retry_after", result
    assert result["headers"]["retry-after"] == "5", result
    assert len(_tokens(admin)) == 1


# --- throttling ---------------------------------------------------------------


def test_a_throttled_repeat_is_answered_locally_with_the_original_error(admin):
    admin.preset("throttled_429")
    cca = _cca()
    first = cca.acquire_token_for_client(GRAPH_APP)
    assert (first["error"], first["error_kind"]) == ("temporarily_unavailable", "service"), first
    again = cca.acquire_token_for_client(GRAPH_APP)
    assert len(_tokens(admin)) == 1, "no request while throttled"
    assert again["error_kind"] == "throttled", again
    assert again["error"] == "temporarily_unavailable", again
    assert again["error_codes"] == first["error_codes"], again
    assert again["correlation_id"] == first["correlation_id"], again
    assert again["http_status"] == 429 and again["headers"]["retry-after"] == "30", again
    assert 28 <= again["retry_after"] <= 30, again
    assert again["action"] == "retry_after" and again["retryable"] is True, again
    # Another application object keeps its own throttle.
    assert "access_token" in _cca().acquire_token_for_client(GRAPH_APP)


# --- claims -------------------------------------------------------------------


def test_claims_challenge_round_trip_with_client_capabilities(admin):
    admin.fault({"match": {"endpoint": "token"}, "count": None,
                 "effect": {"kind": "require_claims", "claims": MFA_CLAIMS}})
    pca = idflow.PublicClientApplication(
        EMULATOR_PUBLIC, authority=servers.emulator_authority(), client_capabilities=["cp1"])
    result = pca.acquire_token_by_username_password(EMULATOR_USER, EMULATOR_PASSWORD, GRAPH)
    assert result["error"] == "interaction_required", result
    assert result["error_kind"] == "interaction_required", result
    assert result["claims"] == MFA_CLAIMS, result
    result = pca.acquire_token_by_username_password(
        EMULATOR_USER, EMULATOR_PASSWORD, GRAPH, claims_challenge=result["claims"])
    assert "access_token" in result, result
    sent = _tokens(admin)
    assert _claims_sent(sent[0]) == {"access_token": {"xms_cc": {"values": ["cp1"]}}}
    assert _claims_sent(sent[1]) == {
        "access_token": {"acrs": {"essential": True, "value": "c1"},
                         "xms_cc": {"values": ["cp1"]}}}


def test_device_flow_carries_the_merged_claims(admin):
    pca = idflow.PublicClientApplication(
        EMULATOR_PUBLIC, authority=servers.emulator_authority(), client_capabilities=["cp1"])
    flow = pca.initiate_device_flow(GRAPH, claims_challenge=MFA_CLAIMS)
    admin.approve(flow["user_code"])
    assert "access_token" in pca.acquire_token_by_device_flow(flow)
    log = admin.requests()
    merged = {"access_token": {"acrs": {"essential": True, "value": "c1"},
                               "xms_cc": {"values": ["cp1"]}}}
    assert _claims_sent([r for r in log if r["endpoint"] == "devicecode"][-1]) == merged
    assert _claims_sent([r for r in log if r["endpoint"] == "token"][-1]) == merged


@pytest.mark.parametrize("bad", ["cp1", [1], [""], {"cp1": True}])
def test_client_capabilities_must_be_a_list_of_str(bad):
    with pytest.raises(ValueError):
        idflow.PublicClientApplication(EMULATOR_PUBLIC, authority=servers.emulator_authority(),
                                       client_capabilities=bad)


def test_invalid_claims_is_misuse_or_a_client_error(admin):
    pca = idflow.PublicClientApplication(EMULATOR_PUBLIC, authority=servers.emulator_authority())
    with pytest.raises(ValueError) as e:
        pca.acquire_token_by_username_password(
            EMULATOR_USER, EMULATOR_PASSWORD, GRAPH, claims_challenge="not json")
    assert e.value.result["error"] == "invalid_json_claims_format"
    assert _tokens(admin) == []


# --- WWW-Authenticate ---------------------------------------------------------

_VECTORS = Path(__file__).resolve().parents[2] / "testdata" / "www_authenticate.json"
_CASES = json.loads(_VECTORS.read_text(encoding="utf-8"))["cases"]


def test_the_vector_file_has_cases():
    assert len(_CASES) >= 12


@pytest.mark.parametrize("case", _CASES, ids=[c["name"] for c in _CASES])
def test_www_authenticate_vectors(case):
    headers = [tuple(h) for h in case["headers"]]
    if "error" in case:
        with pytest.raises(ValueError) as e:
            idflow.parse_www_authenticate(headers)
        assert e.value.result["error"] == case["error"], e.value.result
        assert e.value.result["error_kind"] == "client", e.value.result
    else:
        parsed = idflow.parse_www_authenticate(headers)
        assert [{"scheme": c["scheme"], "params": c["params"]} for c in parsed] == case["challenges"]
        first = parsed[0] if parsed else {"claims": None, "authority": None}
        assert first["claims"] == case["claims"]
        assert first["authority"] == case["authority"]
    assert idflow.claims_challenge(headers) == case["claims_challenge"]


def test_helpers_take_a_dict_of_headers_too():
    headers = {"WWW-Authenticate": ['Bearer error="insufficient_claims", claims="{\\"a\\":1}"']}
    assert idflow.claims_challenge(headers) == '{"a":1}'
    assert idflow.parse_www_authenticate(headers)[0]["error"] == "insufficient_claims"
    with pytest.raises(ValueError):
        idflow.claims_challenge("WWW-Authenticate: Bearer")
