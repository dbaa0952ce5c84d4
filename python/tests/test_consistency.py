"""The facade against the core's mapping catalogue: everything the core can
decide has a Python translation, and every idflow code comes out in the Python
form the core's table gives it. Fails when a translation in idflow/__init__.py
is missing or wrong (e.g. TimeoutError mapped to ConnectionError)."""

from __future__ import annotations

import builtins

import pytest

import idflow
from idflow import _common, _native

CATALOGUE = _native.mapping_catalogue()
LOCAL_CODES = CATALOGUE.local_codes


def _expected_observation(form):
    """What msal's contract says a PythonForm looks like to a caller: a dict,
    None, or the builtin exception of that name (independent of the facade's
    table, so a wrong entry there fails)."""
    if form.name == "DICT":
        return dict
    if form.name == "NONE_RESULT":
        return None
    name = "".join(part.capitalize() for part in form.name.split("_"))
    exc = getattr(builtins, name, None)
    assert isinstance(exc, type) and issubclass(exc, Exception), f"no builtin {name}"
    return exc


def _observe(call):
    try:
        value = call()
    except Exception as e:  # noqa: BLE001 - the type is what is checked
        return e
    return value


def _check(observed, form, what):
    want = _expected_observation(form)
    if want is None:
        assert observed is None, f"{what}: want None, got {observed!r}"
    elif want is dict:
        assert type(observed) is dict, f"{what}: want a dict, got {observed!r}"
        assert "error" in observed
    else:
        assert type(observed) is want, f"{what}: want {want.__name__}, got {observed!r}"
        assert type(observed.result) is dict and "error" in observed.result


def test_catalogue_is_not_empty():
    assert LOCAL_CODES and CATALOGUE.python_forms and CATALOGUE.kinds


@pytest.mark.parametrize("form", CATALOGUE.python_forms, ids=lambda f: f.name)
def test_every_python_form_has_a_translation(form):
    name, how = _common._FORMS[form]
    want = _expected_observation(form)
    if want is dict:
        assert how is _common._RETURN_DICT
    elif want is None:
        assert how is _common._RETURN_NONE
    else:
        assert how is want
    # A decision names the form so that raise_for_info finds the same entry.
    assert _common._FORMS_BY_NAME[name] == (form, how)


@pytest.mark.parametrize("info", LOCAL_CODES, ids=[c.code for c in LOCAL_CODES])
def test_local_code_has_the_catalogued_python_form(info):
    decision = idflow.explain(info.code)
    assert decision["code"] == info.code
    assert decision["kind"] == info.kind.name.lower()
    assert decision["python"]["form"] == _common._FORMS[info.python_form][0]
    # Through the decision, and through the native ErrorInfo thrown back by the core.
    _check(_observe(lambda: idflow.raise_for_info(decision)), info.python_form, "decision")
    native = _native.explain(info.code)
    _check(_observe(lambda: idflow.raise_for_info(native)), info.python_form, "ErrorInfo")


@pytest.mark.parametrize("kind", CATALOGUE.network_kinds, ids=lambda k: k.name.lower())
def test_every_network_kind_raises_an_oserror(kind):
    decision = idflow.transport_failure(kind.name.lower(), "detail")
    assert decision["kind"] == "network" and decision["network"] == kind.name.lower()
    observed = _observe(lambda: idflow.raise_for_info(decision))
    form = _common._FORMS_BY_NAME[decision["python"]["form"]][0]
    _check(observed, form, kind.name)
    assert isinstance(observed, OSError)


def test_every_kind_and_classification_translates():
    kinds = {k.name.lower() for k in CATALOGUE.kinds}
    assert kinds == {"client", "service", "interaction_required", "network", "throttled", "cancelled"}
    names = [_common._msal_net_name(c) for c in CATALOGUE.classifications]
    # MSAL.NET's UiRequiredExceptionClassification, in its order.
    assert names == [
        "None", "MessageOnly", "BasicAction", "AdditionalAction", "ConsentRequired",
        "UserPasswordExpired", "PromptNeverFailed", "AcquireTokenSilentFailed",
    ]


def test_every_flow_and_network_kind_is_accepted():
    assert set(idflow.FLOWS) == {f.name.lower() for f in _native.Flow}
    assert set(idflow.NETWORK_KINDS) == {k.name.lower() for k in CATALOGUE.network_kinds}
