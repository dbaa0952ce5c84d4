"""The facade's own contract: argument forms, misuse as ValueError, the core's
panic guard as a dict, and no generated type leaking out."""

from __future__ import annotations

import json

import pytest

import idflow
from idflow import _native

ERROR_BODY = json.dumps({
    "error": "invalid_grant",
    "error_description": "AADSTS50076: MFA required.",
    "error_codes": [50076],
    "suberror": "basic_action",
})
TOKEN_BODY = json.dumps({"access_token": "at", "token_type": "Bearer", "expires_in": 3600})
JSON = [("Content-Type", "application/json")]


def _strip(decision):
    return {k: v for k, v in decision.items() if k not in ("headers", "python")}


def test_headers_as_dict_or_pairs_and_body_as_str_or_bytes_agree():
    a = idflow.classify_response(400, JSON, ERROR_BODY, "silent")
    b = idflow.classify_response(400, dict(JSON), ERROR_BODY.encode(), "silent")
    c = idflow.classify_response(400, {"content-type": ["application/json"]}, bytearray(ERROR_BODY.encode()), "silent")
    assert a == b == c
    assert a["kind"] == "interaction_required" and a["classification"] == "BasicAction"
    assert a["headers"] == [("content-type", "application/json")]


def test_repeated_headers_pass_through():
    d = idflow.classify_response(
        429, [("Retry-After", "30"), ("X-Extra", "a"), ("X-Extra", "b")], "", "token")
    assert ("x-extra", "a") in d["headers"] and ("x-extra", "b") in d["headers"]


def test_flow_defaults_to_token_and_accepts_the_enum():
    a = idflow.classify_response(400, JSON, ERROR_BODY)
    b = idflow.classify_response(400, JSON, ERROR_BODY, _native.Flow.TOKEN)
    assert a == b and a["flow"] == "token"
    assert "classification" not in idflow.result_for_response(400, JSON, ERROR_BODY)


def test_success_decision_and_result():
    d = idflow.classify_response(200, JSON, TOKEN_BODY)
    assert d["outcome"] == "success" and d["kind"] is None and d["python"] is None
    r = idflow.result_for_response(200, JSON, TOKEN_BODY)
    assert r == d["result"]
    assert r["access_token"] == "at" and r["token_source"] == "identity_provider"


def test_error_result_is_the_decisions_python_dict():
    d = idflow.classify_response(400, JSON, ERROR_BODY, "silent")
    assert idflow.result_for_response(400, JSON, ERROR_BODY, "silent") == d["python"]["dict"]


@pytest.mark.parametrize("args", [
    ("400", JSON, ERROR_BODY, "token"),
    (True, JSON, ERROR_BODY, "token"),
    (70000, JSON, ERROR_BODY, "token"),
    (-1, JSON, ERROR_BODY, "token"),
    (400, "Content-Type: application/json", ERROR_BODY, "token"),
    (400, [("Content-Type",)], ERROR_BODY, "token"),
    (400, [("Content-Type", 1)], ERROR_BODY, "token"),
    (400, 5, ERROR_BODY, "token"),
    (400, JSON, 12, "token"),
    (400, JSON, {"error": "x"}, "token"),
    (400, JSON, ERROR_BODY, "interactive"),
    (400, JSON, ERROR_BODY, "TOKEN"),
    (400, JSON, ERROR_BODY, None),
], ids=[
    "status_str", "status_bool", "status_too_big", "status_negative", "headers_str",
    "header_not_pair", "header_value_int", "headers_int", "body_int", "body_dict",
    "flow_unknown", "flow_upper", "flow_none",
])
@pytest.mark.parametrize("fn", [idflow.classify_response, idflow.result_for_response],
                         ids=["classify_response", "result_for_response"])
def test_misuse_is_value_error(fn, args):
    with pytest.raises(ValueError) as e:
        fn(*args)
    assert type(e.value) is ValueError


@pytest.mark.parametrize("call", [
    lambda: idflow.explain(50079),
    lambda: idflow.explain(None),
    lambda: idflow.transport_failure("carrier_pigeon"),
    lambda: idflow.transport_failure("timeout", detail=3),
    lambda: idflow.raise_for_info({"error": "invalid_grant"}),
    lambda: idflow.raise_for_info("invalid_grant"),
    lambda: idflow.raise_for_info({"python": {"form": "KeyError", "dict": {}}, "message": "m"}),
], ids=["explain_int", "explain_none", "transport_unknown", "transport_detail_int",
        "raise_plain_dict", "raise_str", "raise_unknown_form"])
def test_other_misuse_is_value_error(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize("query", ["", "   ", "AADSTS1 Not-An-Error", "not a code!"])
def test_explain_refusal_is_value_error_with_the_cores_dict(query):
    with pytest.raises(ValueError) as e:
        idflow.explain(query)
    exc = e.value
    assert type(exc) is ValueError
    assert exc.result["error"] == "invalid_parameter"
    assert exc.decision["code"] == "invalid_parameter" and exc.decision["kind"] == "client"
    assert str(exc) == exc.decision["message"]
    assert exc.__context__ is None and exc.__cause__ is None


def test_explain_aadsts_number():
    d = idflow.explain("AADSTS50079")
    assert d["kind"] == "interaction_required" and d["action"] == "acquire_interactively"
    assert d["error_codes"] == [50079] and d["mitigation"]
    assert idflow.explain("50079")["code"] == d["code"]


def test_explain_any_published_number_and_decide_unknown_ones():
    d = idflow.explain("AADSTS700027")
    assert d["code"] == "invalid_client" and d["action"] == "fix_configuration"
    unknown = idflow.explain("AADSTS1")
    assert unknown["kind"] == "service" and "not in idflow's table" in unknown["message"]
    decided = idflow.explain("AADSTS1 invalid_grant consent_required")
    assert decided["kind"] == "interaction_required"
    assert decided["classification"] == "ConsentRequired"


def test_network_failure_is_pythons_own_oserror():
    with pytest.raises(TimeoutError) as e:
        idflow.raise_for_info(idflow.transport_failure("timeout", "read timed out"))
    assert type(e.value) is TimeoutError and isinstance(e.value, OSError)
    assert e.value.result["error"] == "request_timeout"
    assert e.value.decision["action"] == "retry"
    with pytest.raises(ConnectionError) as e:
        idflow.raise_for_info(idflow.transport_failure("dns"))
    assert type(e.value) is ConnectionError


def test_self_test_panic_is_an_internal_error_dict():
    result = idflow.self_test_panic()
    assert type(result) is dict
    assert result["error"] == "internal_error"
    assert result["error_kind"] == "client"


def test_native_internal_error_becomes_the_cores_internal_error_dict(monkeypatch):
    # A failure below the core's guard reaches Python as the generated
    # InternalError; the facade reports the core's internal_error instead.
    def broken(*_args):
        raise _native.InternalError("simulated: no decision came back")

    monkeypatch.setattr(_native, "classify_response", broken)
    d = idflow.classify_response(400, JSON, ERROR_BODY)
    assert d["outcome"] == "error" and d["code"] == "internal_error"
    monkeypatch.setattr(_native, "raise_for_response", broken)
    assert idflow.result_for_response(400, JSON, ERROR_BODY)["error"] == "internal_error"


def test_public_names_hold_no_generated_type():
    for name in idflow.__all__:
        value = getattr(idflow, name)
        assert not getattr(value, "__module__", "idflow").startswith(_native.__name__), name
