"""msal Python's public API against idflow's, parameter by parameter (see
tests/msal_surface.py): the README's table is current, and every refusal says
what to use instead."""

import pytest

import idflow
from idflow.application import REFUSED

import msal_surface


def test_the_readme_table_of_msals_api_is_current():
    table = msal_surface.current_table(msal_surface.README.read_text())
    assert table is not None, "python/README.md lacks the msal-surface table"
    fresh = msal_surface.render(msal_surface.surface())
    assert table == fresh, (
        "python/README.md's table of msal's API is out of date: "
        "run `python tests/msal_surface.py --write` from python/"
    )


def test_the_judge_sees_a_refusal_and_a_missing_method():
    rows = {(c, m, p): v for c, m, p, v, _ in msal_surface.surface()}
    # Every row's verdict is one of the three, and each msal class appears.
    assert set(rows.values()) <= {"supported", "refused", "missing"}
    assert {c for c, _, _ in rows} >= {"ClientApplication", "TokenCache"}
    # Brokers are refused by name in the constructor, with a reason.
    assert rows[("PublicClientApplication", "__init__", "enable_broker_on_windows")] == "refused"


@pytest.mark.parametrize("name", ["enable_broker_on_windows", "enable_broker_on_mac", "allow_broker"])
def test_a_broker_argument_is_a_value_error_that_says_what_to_use_instead(name):
    with pytest.raises(ValueError) as e:
        idflow.PublicClientApplication("client", authority="https://login.microsoftonline.com/common",
                                       **{name: True})
    assert name in str(e.value)
    assert "acquire_token_interactive" in str(e.value)
    assert REFUSED[name] in str(e.value)
