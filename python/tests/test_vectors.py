"""Every case of testdata/vectors.json through the Python facade: the core's
decision (classify_response / explain / transport_failure) and what an msal
Python app observes (a dict, None, or ValueError / ConnectionError /
TimeoutError). One test per case and aspect; no per-case code."""

from __future__ import annotations

import builtins
from typing import Any, Dict, Optional, Tuple

import pytest

import idflow
from idflow import _native

import vectors

# The vectors, then the corpus of responses from the MSAL libraries' test suites.
CASES = vectors.load_cases() + vectors.load_corpus()
IDS = [c["name"] for c in CASES]

# vector `expect` key -> decision key
DECISION_KEYS = {
    "outcome": "outcome",
    "polling": "polling",
    "kind": "kind",
    "code": "code",
    "classification": "classification",
    "retryable": "retryable",
    "retry_after_secs": "retry_after",
    "action": "action",
    "aadsts": "error_codes",
}
# Python forms as the vectors name them: what each looks like to a caller.
VALUE_FORMS = {"dict", "None"}
EXCEPTION_FORMS = {"ValueError", "ConnectionError", "TimeoutError"}


def _decision_and_raised(case: Dict[str, Any]) -> Tuple[Dict[str, Any], Optional[BaseException]]:
    """The facade's decision for a case; for an explain query the core
    refuses, the ValueError raised and the decision it carries."""
    inp = case["input"]
    kind = inp["type"]
    if kind == "response":
        return idflow.classify_response(*vectors.response_args(inp)), None
    if kind == "transport":
        return idflow.transport_failure(inp["network"], inp.get("detail", "")), None
    if kind == "explain":
        try:
            return idflow.explain(inp["query"]), None
        except ValueError as e:
            return e.decision, e  # type: ignore[attr-defined]
    pytest.fail(f"unknown input type {kind!r}: teach the Python suite about it")


def _observe(call) -> Tuple[str, Any]:
    """(form name, the value or the exception) for what a call gives Python."""
    try:
        value = call()
    except (ValueError, OSError) as e:
        return type(e).__name__, e
    if value is None:
        return "None", None
    assert isinstance(value, dict), f"the facade returned a {type(value).__name__}"
    return "dict", value


def _observations(case: Dict[str, Any]):
    """Every way the facade lets Python observe a case: (label, form, value)."""
    inp = case["input"]
    kind = inp["type"]
    if kind == "response":
        args = vectors.response_args(inp)
        yield ("result_for_response",) + _observe(lambda: idflow.result_for_response(*args))
    elif kind == "transport":
        detail = inp.get("detail", "")
        yield ("raise_for_info(transport_failure)",) + _observe(
            lambda: idflow.raise_for_info(idflow.transport_failure(inp["network"], detail)))
        native_kind = _native.NetworkKind[inp["network"].upper()]
        yield ("raise_for_info(ErrorInfo)",) + _observe(
            lambda: idflow.raise_for_info(_native.transport_failure(native_kind, detail)))
    elif kind == "explain":
        yield ("raise_for_info(explain)",) + _observe(
            lambda: idflow.raise_for_info(idflow.explain(inp["query"])))
        try:
            info = _native.explain(inp["query"])
        except _native.AuthError as e:  # the core's own refusal: seen through the facade above
            info = e.info
        yield ("raise_for_info(ErrorInfo)",) + _observe(lambda: idflow.raise_for_info(info))
    else:
        pytest.fail(f"unknown input type {kind!r}: teach the Python suite about it")


def _native_in_chain(exc: BaseException) -> bool:
    """Whether a generated exception type is the exception or in its chain."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if type(exc).__module__.startswith(_native.__name__):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_decision(case):
    expect = case["expect"]
    if case["input"]["type"] == "response":
        assert "outcome" in expect, "a response case must say its outcome"
    decision, _ = _decision_and_raised(case)
    checked = 0
    for vkey, dkey in DECISION_KEYS.items():
        if vkey in expect and dkey in decision:
            assert decision[dkey] == expect[vkey], f"{vkey}: {decision[dkey]!r} != {expect[vkey]!r}"
            checked += 1
    assert checked, "the case expects nothing the Python decision holds"
    if expect.get("outcome") == "success" or decision.get("outcome") == "success":
        assert decision["python"] is None and isinstance(decision["result"], dict)
    else:
        assert decision["python"]["form"] == expect["python"]["form"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_python_observation(case):
    want = case["expect"]["python"]
    form = want["form"]
    assert form in VALUE_FORMS | EXCEPTION_FORMS, f"unknown python form {form!r}"
    for label, got_form, got in _observations(case):
        assert got_form == form, f"{label}: got {got_form} ({got!r}), want {form}"
        if form == "None":
            continue
        if form in EXCEPTION_FORMS:
            # Python's own class, exactly; nothing generated escapes or is chained.
            assert type(got) is getattr(builtins, form), label
            assert not _native_in_chain(got), label
            assert str(got), f"{label}: the exception has no message"
            result = got.result
        else:
            result = got
        assert isinstance(result, dict), label
        for key, value in want.get("dict", {}).items():
            assert key in result, f"{label}: {key!r} missing from {sorted(result)}"
            assert result[key] == value, f"{label}: {key}: {result[key]!r} != {value!r}"
        for key in want.get("absent", []):
            assert key not in result, f"{label}: {key!r} must be absent, is {result[key]!r}"
