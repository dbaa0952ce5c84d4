#!/usr/bin/env python3
"""Builds testdata/corpus.json: error responses taken from the MSAL libraries'
own test suites and fixtures, each with its source (repository and path), the
decision that library's code makes, and idflow's expected decision.

The responses below are written out from the fixtures (their error fields;
descriptions shortened). idflow's expectation is derived here from the error
model as the specification states it (msal-error-model, the
interaction-required rule, the per-language views) — an encoding of the
rules independent of the Rust core, so the corpus checks the core against
the specification, never against itself. Run `python3 testdata/corpus.py`
after editing; every language suite runs corpus.json.
"""

import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).with_name("corpus.json")

NET = ("MSAL.NET", "AzureAD/microsoft-authentication-library-for-dotnet")
JS = ("msal-js (msal-common / msal-node)", "AzureAD/microsoft-authentication-library-for-js")
JAVA = ("MSAL for Java", "AzureAD/microsoft-authentication-library-for-java")
PY = ("msal Python", "AzureAD/microsoft-authentication-library-for-python")
OBJC = ("MSAL for iOS/macOS", "AzureAD/microsoft-authentication-library-for-objc")
OBJC_COMMON = ("MSAL for iOS/macOS", "AzureAD/microsoft-authentication-library-common-for-objc")
ANDROID = ("MSAL Android (common)", "AzureAD/microsoft-authentication-library-common-for-android")
DOCS = ("Microsoft identity platform documentation", "MicrosoftDocs/entra-docs")

TAGS = {NET[0]: "net", JS[0]: "js", JAVA[0]: "java", PY[0]: "python", OBJC[0]: "objc",
        ANDROID[0]: "android", DOCS[0]: "docs"}

JSON_CT = [["Content-Type", "application/json; charset=utf-8"]]

CASES = []


FIXTURE = "test fixture"
BUILT = "built from the test's inputs or the library's code path"
DOC = "documentation"


def case(lib, path, fixture, flow, status, body, decision, lib_kind, why=None,
         headers=None, name=None, origin=None):
    """One response. `lib_kind` is the library's decision in idflow's terms
    (`interaction_required`, `service`, `cancelled`, `pending`, or None where
    the library has no such notion); `why` explains a difference."""
    library, repo = lib
    if not isinstance(body, str):
        body = json.dumps(body)
    CASES.append({
        "name": name,
        "source": {"library": library, "repo": repo, "path": path, "fixture": fixture,
                   "origin": origin or (DOC if lib == DOCS else FIXTURE)},
        "library_decision": decision,
        "library_kind": lib_kind,
        "why": why,
        "input": {"type": "response", "flow": flow, "status": status,
                  "headers": JSON_CT if headers is None else headers, "body": body},
    })


# --- the error model, as the specification states it ----------------------

IR_ERRORS = {"invalid_grant", "interaction_required", "consent_required", "login_required"}
NON_UI_SUBERRORS = {"client_mismatch", "protection_policy_required"}
IR_SUBERRORS = {"basic_action", "additional_action", "message_only", "consent_required",
                "user_password_expired", "bad_token"}
CLASSIFICATION = {"basic_action": "BasicAction", "additional_action": "AdditionalAction",
                  "message_only": "MessageOnly", "consent_required": "ConsentRequired",
                  "user_password_expired": "UserPasswordExpired"}
PY_INTERNAL = {"bad_token", "token_expired", "protection_policy_required", "client_mismatch",
               "device_authentication_failed"}
LOCAL_SWIFT = {"non_parsable_oauth_error": -42007, "http_status_not_200": -42009,
               "not_found": -42007, "service_not_available": -42007,
               "request_throttled": -42007, "invalid_token_response": -42600}
OAUTH_INTERNAL = {"invalid_request": -42002, "invalid_client": -42003, "invalid_grant": -42004,
                  "invalid_scope": -42005, "unauthorized_client": -42006, "server_error": -50006}
KOTLIN_REASON = {"None": "NONE", "BasicAction": "BASIC_ACTION", "AdditionalAction": "ADDITIONAL_ACTION",
                 "MessageOnly": "MESSAGE_ONLY", "ConsentRequired": "CONSENT_REQUIRED",
                 "UserPasswordExpired": "USER_PASSWORD_EXPIRED", "PromptNeverFailed": "PROMPT_NEVER_FAILED"}


def parse_body(text, authorize):
    t = text.strip()
    if not t:
        return "empty", None
    if authorize and not t.startswith("{"):
        q = t
        if "://" in t or t[0] in "?#":
            i = min([p for p in (t.find("?"), t.find("#")) if p >= 0], default=-1)
            q = t[i + 1:] if i >= 0 else t
        from urllib.parse import unquote_plus
        m = {}
        for pair in filter(None, q.split("&")):
            k, _, v = pair.partition("=")
            m.setdefault(unquote_plus(k), unquote_plus(v))
        obj = m
    else:
        try:
            obj = json.loads(t)
        except ValueError:
            return "unreadable", None
        if not isinstance(obj, dict):
            return "unreadable", None
    err = obj.get("error")
    if isinstance(err, str) and err.strip():
        return "oauth", obj
    return "object", obj


def codes_of(obj):
    def one(v):
        if isinstance(v, bool):
            return None
        if isinstance(v, int):
            return v if v >= 0 else None
        if isinstance(v, str):
            s = v.strip()
            s = s[6:] if s.startswith("AADSTS") else s
            return int(s) if s.isdigit() else None
        return None
    v = obj.get("error_codes")
    if isinstance(v, list):
        out = [c for c in map(one, v) if c is not None]
    elif v is None:
        out = []
    else:
        out = [c for c in [one(v)] if c is not None]
    if not out:
        d = obj.get("error_description")
        m = re.match(r"\s*AADSTS(\d{1,9})", d) if isinstance(d, str) else None
        if m:
            out = [int(m.group(1))]
    return out


def text(obj, k):
    v = obj.get(k)
    return v if isinstance(v, str) and v else None


def expect_for(inp):
    flow, status = inp["flow"], inp["status"]
    authorize = flow in ("authorize", "authorize_prompt_none")
    ok = 200 <= status < 300 or authorize
    shape, obj = parse_body(inp["body"], authorize)
    retry_after = None
    for n, v in inp["headers"]:
        if n.lower() == "retry-after" and v.strip().isdigit():
            retry_after = int(v.strip())
    x = {"outcome": "error", "polling": "stop" if flow == "device_code" else None}
    classification = None
    suberror = None
    if shape == "oauth":
        error = obj["error"].strip()
        suberror = text(obj, "suberror")
        codes = codes_of(obj)
        sub = suberror or ""
        if error in ("access_denied", "authorization_declined") and flow in (
                "device_code", "authorize", "authorize_prompt_none"):
            kind = "cancelled"
        elif ((error in IR_ERRORS and sub not in NON_UI_SUBERRORS) or sub in IR_SUBERRORS
              or (error == "invalid_request" and 50142 in codes)):
            kind = "interaction_required"
        else:
            kind = "service"
        if kind == "interaction_required":
            classification = CLASSIFICATION.get(sub, "None")
            if (classification == "None" and flow == "authorize_prompt_none"
                    and error in ("login_required", "interaction_required")):
                classification = "PromptNeverFailed"
        code = error
        retryable = status >= 500 and status < 600 or status in (429, 408) or error == "temporarily_unavailable"
        if flow == "device_code":
            x["polling"] = {"authorization_pending": "continue", "slow_down": "slow_down"}.get(error, "stop")
            if x["polling"] != "stop":
                x["outcome"] = "pending"
    else:
        if shape == "object" and ok:
            key = "code" if authorize else "access_token"
            v = obj.get(key)
            if isinstance(v, str) and v:
                raise SystemExit(f"{inp}: a success has no place in an error corpus")
            code = "invalid_token_response"
        elif shape == "unreadable":
            code = {404: "not_found", 429: "request_throttled"}.get(status) or (
                "service_not_available" if 500 <= status < 600 else "non_parsable_oauth_error")
        elif shape == "empty" and ok:
            code = "non_parsable_oauth_error"
        else:
            code = {404: "not_found", 429: "request_throttled"}.get(status) or (
                "service_not_available" if 500 <= status < 600 else "http_status_not_200")
        kind = "service"
        codes = codes_of(obj) if (shape == "object" and not ok) else []
        if shape == "object" and not ok:
            suberror = text(obj, "suberror")
        retryable = 500 <= status < 600 or status in (429, 408)
    x.update({"kind": kind, "code": code, "classification": classification,
              "retryable": retryable, "retry_after_secs": retry_after, "aadsts": codes})
    # Swift: MSAL for iOS/macOS reads a token-endpoint body only for 2xx, 400 and 401.
    if not authorize and not (200 <= status < 300) and status not in (400, 401):
        swift = (-50000, -42007)
    elif shape != "oauth":
        swift = (-50000, LOCAL_SWIFT[code])
    elif kind == "cancelled":
        swift = (-50005, None)
    elif kind == "interaction_required":
        swift = (-50142 if 50142 in codes else -50002, None)
    elif suberror == "protection_policy_required":
        swift = (-50004, None)
    else:
        swift = (-50000, OAUTH_INTERNAL.get(code, -42104))
    x["swift"] = {"domain": "IdFlowErrorDomain", "code": swift[0], "internal_code": swift[1]}
    kclass = {"service": "ServiceException", "interaction_required": "InteractionRequiredException",
              "cancelled": "ClientException"}[kind]
    x["kotlin"] = {"class": kclass,
                   "reason": KOTLIN_REASON[classification] if kind == "interaction_required" else None,
                   "cause": None}
    if not authorize and kind != "cancelled":  # statusCode is a ServiceException's
        x["kotlin"]["status_code"] = status
    py = {"error": code, "error_kind": kind}
    absent = []
    if flow == "silent" and shape == "oauth":
        if suberror is not None:
            py["classification"] = "" if suberror in PY_INTERNAL else suberror
        else:
            absent.append("classification")
    x["python"] = {"form": "dict", "dict": py, "absent": absent}
    return x


def decided_kind(x):
    return "pending" if x["outcome"] == "pending" else x["kind"]


# --- MSAL.NET ----------------------------------------------------------------

NET_EXC = "tests/Microsoft.Identity.Test.Unit/ExceptionTests/MsalExceptionTests.cs"
NET_MOCK = "tests/Microsoft.Identity.Test.Common/Core/Mocks/MockHelpers.cs"
NET_OAUTH = "tests/Microsoft.Identity.Test.Unit/OAuthClientTests.cs"


def net_json_error(suberror, error="invalid_grant", description="AADSTS90002: Tenant 'x' not found. "):
    b = {"error": error}
    if suberror is not None:
        b["suberror"] = suberror
    b.update({"claims": "some_claims", "error_description": description, "error_codes": [90002],
              "timestamp": "2019-01-28 14:16:04Z", "trace_id": "43f14373-8d7d-466e-a5f1-6e3889291e00",
              "correlation_id": "6347d33d-941a-4c35-9912-a9cf54fb1b3e"})
    return b


for sub, cls, ui in [(None, "None", True), ("", "None", True), ("new_value", "None", True),
                     ("basic_action", "BasicAction", True), ("additional_action", "AdditionalAction", True),
                     ("message_only", "MessageOnly", True), ("consent_required", "ConsentRequired", True),
                     ("user_password_expired", "UserPasswordExpired", True), ("bad_token", "None", True),
                     ("token_expired", "None", True), ("protection_policy_required", None, False),
                     ("client_mismatch", None, False), ("device_authentication_failed", "None", True)]:
    for flow in ("token", "silent"):
        label = "no suberror" if sub is None else f"suberror {sub!r}"
        case(NET, NET_EXC, f"JsonError (invalid_grant with claims) with {label}, status 400 (ValidateClassification)",
             flow, 400, net_json_error(sub),
             f"MsalClaimsChallengeException (UI required), Classification {cls}" if ui
             else "MsalServiceException (not UI required), claims attached",
             "interaction_required" if ui else "service")
case(NET, NET_EXC, "JsonError with invalid_grant replaced by invalid_client (InvalidClientException_IsRepackaged)",
     "token", 400, net_json_error("some_suberror", error="invalid_client"),
     "MsalServiceException invalid_client, claims attached", "service")
case(NET, NET_EXC, "JsonError with AADSTS50196 (MsalServiceException_Throws_MsalUIRequiredException_When_Throttled)",
     "silent", 400, net_json_error("some_suberror", description="AADSTS50196: Tenant 'x' not found. "),
     "MsalClaimsChallengeException (UI required) with the AAD-throttled message", "interaction_required")
for code in (429, 408, 500, 501, 502, 503, 504, 505, 400, 401):
    case(NET, NET_EXC, f"text body 'body' with status {code} (IsRetryable)", "token", code, "body",
         f"MsalServiceException, IsRetryable {'true' if code not in (400, 401) else 'false'}", "service",
         headers=[])
case(NET, NET_OAUTH, "CreateTooManyRequestsNonJsonResponse (429, Retry-After 120, text body)", "token", 429,
     "Too many requests error", "MsalServiceException request_throttled, Retry-After kept", "service",
     headers=[["Retry-After", "120"]])
case(NET, NET_OAUTH, "CreateTooManyRequestsJsonResponse (429, Retry-After 120, error 'Server overload')", "token", 429,
     {"error": "Server overload", "error_description": "429: Too many requests error", "error_codes": [90010],
      "timestamp": "2018-09-22 00:50:11Z", "trace_id": "dd25f4fb-3e8d-458e-90e7-179524ce0000",
      "correlation_id": "f11508ab-067f-40d4-83cb-ccc67bf57e45"},
     "MsalServiceException with ErrorCode 'Server overload'", "service",
     headers=JSON_CT + [["Retry-After", "120"]])
case(NET, NET_OAUTH, "CreateEmptyResponseMessage (400, empty body)", "token", 400, "",
     "MsalServiceException http_status_not_200", "service", headers=[])
case(NET, NET_OAUTH, "CreateNullResponseMessage (400, no content)", "silent", 400, "",
     "MsalServiceException http_status_not_200", "service", headers=[])
NO_ERROR_FIELD = {"the-error-is-not-here": "erorwithouterrorfield",
                  "error_description": "AADSTS991: This is an error message which doesn't contain the error field.",
                  "error_codes": [90010], "timestamp": "2018-09-22 00:50:11Z",
                  "trace_id": "dd25f4fb-3e8d-458e-90e7-179524ce0000",
                  "correlation_id": "f11508ab-067f-40d4-83cb-ccc67bf57e45"}
case(NET, NET_OAUTH, "CreateNoErrorFieldResponseMessage (400, JSON without error)", "token", 400, NO_ERROR_FIELD,
     "MsalServiceException http_status_not_200, error codes and correlation id read from the body", "service")
case(NET, NET_OAUTH, "CreateHttpStatusNotFoundResponseMessage (404, JSON without error)", "token", 404, NO_ERROR_FIELD,
     "MsalServiceException not_found, error codes and correlation id read from the body", "service")
case(NET, NET_MOCK, "CreatePKeyAuthChallengeResponse without a PKeyAuth handler (401, JSON without error)", "token", 401,
     NO_ERROR_FIELD, "MsalServiceException http_status_not_200", "service",
     headers=JSON_CT + [["WWW-Authenticate", 'PKeyAuth  Nonce="nonce",  Version="1.0", CertThumbprint="thumbprint",  Context="context"']])
INVALID_GRANT_NET = {"error": "invalid_grant",
                     "error_description": "AADSTS70002: Error validating credentials.AADSTS70008: The provided access grant is expired or revoked.",
                     "error_codes": [70002, 70008], "timestamp": "2015-09-16 07:24:55Z",
                     "trace_id": "f7ec686c-9196-4220-a754-cd9197de44e9",
                     "correlation_id": "04bb0cae-580b-49ac-9a10-b6c3316b1eaa"}
for flow in ("silent", "token"):
    case(NET, NET_MOCK, "CreateInvalidGrantTokenResponseMessage()", flow, 400, INVALID_GRANT_NET,
         "MsalUiRequiredException, Classification None", "interaction_required")
    case(NET, NET_MOCK, "CreateInvalidGrantTokenResponseMessage(claims: TestConstants.ClaimsChallenge)", flow, 400,
         dict(INVALID_GRANT_NET, claims='{"access_token":{"nbf":{"essential":true, "value":"1563308371"}}}'),
         "MsalClaimsChallengeException (UI required), Claims set", "interaction_required")
case(NET, NET_MOCK, "CreateInvalidGrantTokenResponseMessage(GetSubError: client_mismatch) (FociTests)", "silent", 400,
     dict(INVALID_GRANT_NET, suberror="client_mismatch"),
     "MsalServiceException (not UI required): the family refresh token is skipped, the app's own is used",
     "service")
case(NET, NET_MOCK, "CreateInvalidRequestTokenResponseMessage (AADSTS90010)", "token", 400,
     {"error": "invalid_request", "error_description": "AADSTS90010: The grant type is not supported over the /common or /consumers endpoints.",
      "error_codes": [90010], "timestamp": "2018-09-22 00:50:11Z",
      "trace_id": "dd25f4fb-3e8d-458e-90e7-179524ce0000", "correlation_id": "f11508ab-067f-40d4-83cb-ccc67bf57e45"},
     "MsalServiceException invalid_request", "service")
case(NET, NET_MOCK, "CreateInvalidClientResponseMessage (AADSTS7000218)", "token", 400,
     {"error": "invalid_client", "error_description": "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      "error_codes": [7000218], "timestamp": "2019-07-12 19:24:42Z",
      "trace_id": "21c3e4db-d2fd-44f7-a3e0-5939f84e6000", "correlation_id": "3d483b09-1198-4acb-929f-c648674e32bd"},
     "MsalServiceException invalid_client", "service")
for code, ra in ((500, None), (503, "3"), (504, None)):
    case(NET, NET_MOCK, f"CreateServerErrorMessage({code}{', retryAfter: ' + ra if ra else ''})", "token", code,
         "Server Error 500-599", "MsalServiceException service_not_available after one retry", "service",
         headers=[["Retry-After", ra]] if ra else [], origin=BUILT)
case(NET, NET_MOCK, "CreateRequestTimeoutResponseMessage (408)", "token", 408, "Request Timed Out.",
     "MsalServiceException (retryable)", "service", headers=[])
for err in ("interaction_required", "invalid_scope", "temporarily_unavailable"):
    case(NET, NET_MOCK, f"CreateFailureTokenResponseMessage(\"{err}\")", "token", 400,
         {"error": err, "error_description": "AADSTS00000: Error for test.", "error_codes": [70002, 70008],
          "timestamp": "2015-09-16 07:24:55Z", "trace_id": "f7ec686c-9196-4220-a754-cd9197de44e9",
          "correlation_id": "f11508ab-067f-40d4-83cb-ccc67bf57e45"},
         "MsalUiRequiredException" if err == "interaction_required"
         else ("MsalServiceException (retryable)" if err == "temporarily_unavailable" else "MsalServiceException"),
         "interaction_required" if err == "interaction_required" else "service", origin=BUILT)

# --- msal-js ---------------------------------------------------------------

JS_KIT = "lib/msal-common/test/test_kit/StringConstants.ts"
JS_IRE = "lib/msal-common/test/error/InteractionRequiredAuthError.spec.ts"
JS_RH = "lib/msal-common/test/response/ResponseHandler.spec.ts"
case(JS, JS_KIT, "AUTHORIZATION_PENDING_RESPONSE (device code polling)", "device_code", 400,
     {"error": "authorization_pending",
      "error_description": "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
      "error_codes": [70016], "timestamp": "2020-03-26 22:54:14Z", "trace_id": "01707a0c-640b-4049-8cbb-ee2304dc0700",
      "correlation_id": "78b0fdfc-dd0e-4dfb-b13a-d316333783f6",
      "error_uri": "https://login.microsoftonline.com/error?code=70016"},
     "DeviceCodeClient keeps polling", "pending")
BAD_TOKEN_JS = {"error": "invalid_grant", "suberror": "bad_token",
                "error_description": "AADSTS9002313: Invalid request. Request is malformed or invalid.",
                "error_codes": [9002313], "timestamp": "2020-03-26 22:54:14Z",
                "trace_id": "01707a0c-640b-4049-8cbb-ee2304dc0700",
                "correlation_id": "78b0fdfc-dd0e-4dfb-b13a-d316333783f6",
                "error_uri": "https://login.microsoftonline.com/error?code=9002313"}
for flow in ("silent", "token"):
    case(JS, JS_KIT, "BAD_TOKEN_ERROR_RESPONSE (refresh token redemption)", flow, 400, BAD_TOKEN_JS,
         "InteractionRequiredAuthError (suberror bad_token); the refresh token is removed", "interaction_required")
case(JS, JS_KIT, "SERVER_UNEXPECTED_ERROR (503, error 'Service Unavailable')", "token", 503,
     {"error": "Service Unavailable"}, "ServerError", "service")
for h, dec, k in [("#error=error_code&error_description=msal+error+description&state=RANDOM-GUID-HERE|", "ServerError", "service"),
                  ("#error=interaction_required&error_description=msal+error+description&state=RANDOM-GUID-HERE|", "InteractionRequiredAuthError", "interaction_required"),
                  ("#error=interaction_required&error_description=msal+error+description+interaction_required&state=RANDOM-GUID-HERE|", "InteractionRequiredAuthError", "interaction_required"),
                  ("#error=login_required&error_description=msal+error+description&state=RANDOM-GUID-HERE|", "InteractionRequiredAuthError", "interaction_required"),
                  ("#error=login_required&error_description=msal+error+description+login_required&state=RANDOM-GUID-HERE|", "InteractionRequiredAuthError", "interaction_required"),
                  ("#error=consent_required&error_description=msal+error+description&state=RANDOM-GUID-HERE|", "InteractionRequiredAuthError", "interaction_required"),
                  ("#error=consent_required&error_description=msal+error+description+consent_required&state=RANDOM-GUID-HERE|", "InteractionRequiredAuthError", "interaction_required")]:
    err = h.split("&")[0].split("=")[1]
    for flow in ("authorize", "authorize_prompt_none"):
        if flow == "authorize_prompt_none" and err == "error_code":
            continue
        case(JS, JS_KIT, f"TEST_*_ERROR_HASH for {err}" + (" (description names it)" if "+" + err in h else "")
             + (", silent iframe (prompt=none)" if flow == "authorize_prompt_none" else ""),
             flow, 302, h, dec, k, headers=[])
for code in ("interaction_required", "consent_required", "login_required", "bad_token"):
    why = None
    if code == "bad_token":
        why = ("msal-js also treats bad_token as an error value; idflow's rule (the union of MSAL.NET's and msal-js's "
               "suberror lists) reads bad_token only as a suberror, where the platform sends it (§2.3): as an error "
               "value it is not one the identity platform documents")
    case(JS, JS_IRE, f"isInteractionRequiredError('{code}', 'This is a {code} error!')", "token", 400,
         {"error": code, "error_description": f"This is a {code} error!"},
         "InteractionRequiredAuthError", "interaction_required", why=why)
    case(JS, JS_IRE, f"isInteractionRequiredError('', 'This is a {code} error!') (description only)", "token", 400,
         {"error": "", "error_description": f"This is a {code} error!"},
         "InteractionRequiredAuthError (substring match on the description)", "interaction_required",
         why="msal-js matches the description; idflow never decides on description text (the spec's rule: "
             "error_description must not be used to react), and a body whose error is empty is not an OAuth error")
for sub in ("message_only", "additional_action", "basic_action", "user_password_expired", "consent_required",
            "bad_token", "not_interaction_required"):
    ir = sub != "not_interaction_required"
    case(JS, JS_IRE, f"isInteractionRequiredError('', '', '{sub}') as a silent refresh answer with error invalid_request",
         "silent", 400, {"error": "invalid_request", "suberror": sub},
         "InteractionRequiredAuthError" if ir else "ServerError", "interaction_required" if ir else "service",
         origin=BUILT)
case(JS, JS_RH, "validateTokenResponse: error interaction_required", "silent", 400,
     {"error": "interaction_required", "error_description": "msal error description", "error_codes": [], "suberror": ""},
     "InteractionRequiredAuthError", "interaction_required")
case(JS, JS_RH, "validateTokenResponse: error test_error", "token", 400,
     {"error": "test_error", "error_description": "msal error description", "error_codes": [], "suberror": ""},
     "ServerError", "service")
case(JS, JS_RH, "validateTokenResponse: error_description only", "token", 400,
     {"error_description": "test_error", "error_codes": [], "suberror": ""}, "ServerError", "service")
case(JS, JS_RH, "validateTokenResponse: suberror only", "token", 400,
     {"suberror": "test_error", "error_codes": []}, "ServerError", "service")
case(JS, JS_RH, "validateTokenResponse: server error number captured", "token", 400,
     {"error": "test error", "error_description": "msal error description", "error_codes": ["500011"]},
     "ServerError with errorNo 500011", "service")
case(JS, JS_RH, "validateTokenResponse: InteractionRequiredAuthError error number captured", "silent", 400,
     {"error": "interaction_required", "error_description": "msal error description", "error_codes": ["50079"]},
     "InteractionRequiredAuthError with errorNo 50079", "interaction_required")
case(JS, "lib/msal-node/test/client/ClientCredentialClient.spec.ts", "client credentials answered interaction_required",
     "client_credentials", 400, {"error": "interaction_required", "error_description": "msal error description"},
     "InteractionRequiredAuthError", "interaction_required")
for status, ra, dec in ((429, None, "checkResponseStatus: true (the request is throttled); ServerError"),
                       (500, None, "checkResponseStatus: true (the request is throttled); ServerError"),
                       (430, None, "checkResponseStatus: false (not throttled); ServerError"),
                       (301, "test", "checkResponseForRetryAfter: true (status > 300 with Retry-After); ServerError")):
    case(JS, "lib/msal-common/test/network/ThrottlingUtils.spec.ts",
         f"body {{}} with status {status}" + (f" and Retry-After {ra!r}" if ra else ""),
         "token", status, {}, dec, "service", headers=JSON_CT + ([["Retry-After", ra]] if ra else []))

# --- MSAL for Java ---------------------------------------------------------

J_TRE = "msal4j-sdk/src/test/java/com/microsoft/aad/msal4j/TokenRequestExecutorTest.java"
J_CONF = "msal4j-sdk/src/test/java/com/microsoft/aad/msal4j/TestConfiguration.java"
J_CLAIMS = '{"access_token":{"polids":{"essential":true,"values":["5ce770ea-8690-4747-aa73-c5b3cd509cd4"]}}}'
J_IG = {"error": "invalid_grant", "error_description": "AADSTS65001: description\r\nCorrelation ID: 3a...5a\r\nTimestamp:2017-07-15 02:35:05Z",
        "error_codes": [50076], "timestamp": "2017-07-15 02:35:05Z", "trace_id": "0788...000",
        "correlation_id": "3a...95a"}
for flow in ("token", "silent"):
    case(JAVA, J_TRE, "executeOAuthRequest_SCBadRequestErrorInvalidGrant_InteractionRequiredException (basic_action, claims)",
         flow, 400, dict(J_IG, suberror="basic_action", claims=J_CLAIMS),
         "MsalInteractionRequiredException, reason BASIC_ACTION, claims()", "interaction_required")
    case(JAVA, J_TRE, "executeOAuthRequest_SCBadRequestErrorInvalidGrant_SubErrorFilteredServiceExceptionThrown (client_mismatch, claims)",
         flow, 400, dict(J_IG, suberror="client_mismatch", claims=J_CLAIMS),
         "MsalServiceException (not interaction required), claims()", "service")
case(JAVA, J_CONF, "HTTP_ERROR_RESPONSE (invalid_request AADSTS90011)", "token", 400,
     {"error": "invalid_request", "error_description": "AADSTS90011: Request is ambiguous, multiple application identifiers found."},
     "MsalServiceException invalid_request", "service")
for status, ra, path in ((400, None, "UIRequiredCacheTest.java"), (401, None, "UIRequiredCacheTest.java"),
                         (429, None, "RequestThrottlingTest.java"), (429, "10", "RequestThrottlingTest.java"),
                         (500, None, "RequestThrottlingTest.java"), (500, "10", "RequestThrottlingTest.java")):
    case(JAVA, "msal4j-sdk/src/test/java/com/microsoft/aad/msal4j/" + path,
         f"TOKEN_ENDPOINT_INVALID_GRANT_ERROR_RESPONSE (basic_action) with status {status}" + (f", Retry-After {ra}" if ra else ""),
         "silent", status, dict(J_IG, suberror="basic_action"),
         "MsalInteractionRequiredException (BASIC_ACTION)" + ("; later requests throttled" if status >= 429 else "; repeats served from the interaction-required cache"),
         "interaction_required", headers=JSON_CT + ([["Retry-After", ra]] if ra else []))
for err, sub, k in (("interaction_required", None, "service"), ("invalid_grant", "protection_policy_required", "service"),
                    ("invalid_grant", None, "interaction_required"), ("consent_required", None, "service")):
    why = None
    if k == "service" and err in ("interaction_required", "consent_required"):
        why = (f"MSAL for Java's factory reads only invalid_grant; idflow follows MSAL.NET and msal-js, for which "
               f"{err} needs a sign-in (§2.3: the union of MSAL.NET's and msal-js's rules)")
    case(JAVA, "msal4j-sdk/src/main/java/com/microsoft/aad/msal4j/MsalServiceExceptionFactory.java",
         f"fromHttpResponse with error {err}" + (f", suberror {sub}" if sub else "") + " (the factory's branches)",
         "silent", 400, dict({"error": err, "error_description": "AADSTS50079: description"}, **({"suberror": sub} if sub else {})),
         "MsalInteractionRequiredException" if k == "interaction_required" else "MsalServiceException", k, why=why,
         origin=BUILT)
case(JAVA, "msal4j-sdk/src/main/java/com/microsoft/aad/msal4j/MsalServiceExceptionFactory.java",
     "fromHttpResponse with a blank body (status 400)", "token", 400, "",
     "MsalServiceException 'unknown' (status code in the message)", "service", headers=[], origin=BUILT)

# --- msal Python -------------------------------------------------------------

PY_APP = "tests/test_application.py"
for body, fixture, decision in [
        ('{"error": "invalid_grant", "suberror": "xyz"}', "test_acquire_token_silent_will_suppress_error",
         "acquire_token_silent returns None; acquire_token_silent_with_error returns the dict with classification 'xyz'"),
        ('{"error": "invalid_grant", "error_description": "xyz"}', "test_acquire_token_silent_with_error_will_return_error",
         "the error dict as sent"),
        ('{"error": "invalid_grant", "suberror": "basic_action"}', "test_atswe_will_map_some_suberror_to_classification_as_is",
         "the error dict with classification 'basic_action'"),
        ('{"error": "invalid_grant", "suberror": "client_mismatch"}', "test_atswe_will_map_some_suberror_to_classification_to_empty_string",
         "the error dict with classification ''"),
        ('{"error": "invalid_grant","error_description": "Was issued to another client"}', "test_unknown_orphan_app_will_attempt_frt_and_not_remove_it",
         "the error dict; the family refresh token is kept"),
        ('{"error": "foo"}', "test_aging_token_and_unavailable_aad_should_return_old_token",
         "the error dict (an aging access token is returned instead when there is one)"),
        ('{"error": "something went wrong"}', "test_expired_token_and_unavailable_aad_should_return_error",
         "the error dict"),
        ('{"error": "error_1"}', "test_maintaining_offline_state_and_sending_them", "the error dict"),
        ('{"error": "mock"}', "tests/test_ccs.py", "the error dict")]:
    path = PY_APP if not fixture.startswith("tests/") else fixture
    case(PY, path, fixture + " (status 400, silent)", "silent", 400, body, decision, None, headers=[])
    case(PY, path, fixture + " (status 400, token request)", "token", 400, body,
         "the error dict as sent", None, headers=[])
for status in (429, 503):
    case(PY, "tests/test_throttled_http_client.py", f"status {status} with Retry-After 2 (throttled HTTP client)",
         "token", status, "0.8444218515250481", "the response is replayed from the throttle cache for 2 s", None,
         headers=[["Retry-After", "2"]])

# --- MSAL for iOS/macOS ------------------------------------------------------

O_AT = "MSAL/test/unit/MSALAcquireTokenTests.m"
for err, desc, sub, code, k, why in [
        ("unauthorized_client", "Protection policy required", "protection_policy_required", "MSALErrorServerProtectionPoliciesRequired (-50004)", "service", None),
        ("invalid_grant", "Refresh token revoked", "unauthorized_client", "MSALErrorInteractionRequired (-50002)", "interaction_required", None),
        ("invalid_grant", "Refresh token revoked", "client_mismatch",
         "MSALErrorInteractionRequired (-50002) after the family token failed and the app has no own token; family id reset",
         "interaction_required",
         "in the silent flow MSAL for iOS/macOS turns any OAuth error but invalid_scope/invalid_client into "
         "interaction required; idflow follows MSAL.NET and msal-js, where invalid_grant + client_mismatch is a "
         "service error that only drives the family fallback (§2.3)")]:
    case(OBJC, O_AT, f"errorRtResponseForScopes(errorCode: {err}, subError: {sub}) in acquireTokenSilent", "silent", 400,
         {"error": err, "error_description": desc, "suberror": sub}, code, k, why=why)
O_CORE = "IdentityCore/tests/"
for err, extra, code, k in [
        ("invalid_grant", {}, "MSIDErrorServerInvalidGrant -> MSALErrorInternal, internal -42004", "service"),
        ("invalid_request", {"error_codes": [50222]}, "MSIDErrorServerInvalidRequest -> internal -42002, STS codes [50222]", "service"),
        ("unauthorized_client", {"suberror": "protection_policy_required", "adi": "cooldude@somewhere.com"},
         "MSIDErrorServerProtectionPoliciesRequired -> MSALErrorServerProtectionPoliciesRequired (-50004)", "service")]:
    why = None
    if err == "invalid_grant":
        why = ("outside the silent flow MSAL for iOS/macOS reports invalid_grant as an internal -42004; idflow follows "
               "MSAL.NET and msal-js, for which invalid_grant needs a sign-in whatever the flow (§2.3)")
    case(OBJC_COMMON, O_CORE + ("MSIDOauth2FactoryTests.m" if err != "unauthorized_client" else "MSIDAADV2Oauth2FactoryTests.m"),
         f"verifyResponse with {{error: {err}}}" + (f" and {sorted(extra)}" if extra else ""), "token", 400,
         dict({"error": err}, **extra), code, k, why=why)
case(OBJC_COMMON, O_CORE + "MSIDAADRequestErrorHandlerTests.m", "403 with {p1: v1} (testHandleError_whenItIsNotServerError_shouldReturnStatusCodeAndHeaders)",
     "token", 403, {"p1": "v1"}, "MSALInternalErrorUnhandledResponse (-42007) with the HTTP headers in userInfo", "service",
     headers=JSON_CT + [["headerKey", "headerValue"]])
case(OBJC_COMMON, O_CORE + "MSIDAADRequestErrorHandlerTests.m", "400 invalid_grant with a suberror (testHandleError_whenItIsServerErrorAndJSONResponseReturned_shouldReturnTokenResponse)",
     "silent", 400, {"error": "invalid_grant", "error_description": "I'm a description", "correlation_id": "I'm a correlation id",
                     "suberror": "I'm a suberror"},
     "the body is read as a token response with its error; silent: MSALErrorInteractionRequired (-50002)", "interaction_required")
case(OBJC_COMMON, O_CORE + "MSIDAADRequestErrorHandlerTests.m", "404 without a body (testHandleError_whenItIsServerError_shouldReturnResponseCodeInError)",
     "token", 404, "", "MSALInternalErrorUnhandledResponse (-42007), HTTP response code 404 in userInfo", "service", headers=[])
case(OBJC_COMMON, O_CORE + "MSIDAADRequestErrorHandlerTests.m", "403 without a body (testHandleError_whenNoErorDescriptionInBody_shouldReturnLocalizedErrorDescription)",
     "token", 403, "", "MSALInternalErrorUnhandledResponse (-42007), description 'forbidden'", "service", headers=[])
case(OBJC_COMMON, O_CORE + "MSIDAADRequestErrorHandlerTests.m", "400 invalid_request (testHandleError_whenErorDescriptionInBody_shouldReturnDescriptionFromBody)",
     "token", 400, {"error": "invalid_request", "error_description": "Invalid format for 'authorization_endpoint' value."},
     "MSIDErrorServerInvalidRequest -> internal -42002", "service")
case(OBJC_COMMON, O_CORE + "MSIDAADRequestErrorHandlerTests.m", "500 without a body after the one retry (testHandleError_whenItIsServerError_shouldRetryRequestAndDecreseRetryCounter)",
     "token", 500, "", "retried once, then MSALInternalErrorUnhandledResponse (-42007) with MSIDServerUnavailableStatusKey", "service", headers=[])
for status in (408, 429, 502, 503, 504):
    case(OBJC_COMMON, "IdentityCore/src/network/error_handler/MSIDAADRequestErrorHandler.m",
         f"status {status} with an OAuth error body (only 400/401 bodies are read)", "token", status,
         {"error": "temporarily_unavailable" if status in (429, 503) else "server_error",
          "error_description": "AADSTS90033: A transient error has occurred."},
         "MSALInternalErrorUnhandledResponse (-42007), headers and status code in userInfo", "service",
         origin=BUILT)
for err in ("invalid_grant", "unauthorized_client"):
    case(OBJC_COMMON, "IdentityCore/src/MSIDError.m",
         f"{err} from the token endpoint outside the silent flow (MSIDErrorCodeForOAuthError)", "token", 400,
         {"error": err, "error_description": "Refresh token revoked" if err == "invalid_grant" else "Unauthorized client"},
         "MSALErrorInternal with internal " + ("-42004" if err == "invalid_grant" else "-42006"),
         "service",
         why=("outside the silent flow MSAL for iOS/macOS reports invalid_grant as an internal -42004; idflow follows "
              "MSAL.NET and msal-js (§2.3)") if err == "invalid_grant" else None, origin=BUILT)
for err, k, why in (("invalid_scope", "service", None), ("invalid_client", "service", None),
                    ("unauthorized_client", "interaction_required",
                     "MSAL for iOS/macOS's silent flow asks for UI on any OAuth error but invalid_scope/invalid_client; "
                     "idflow follows MSAL.NET and msal-js, for which unauthorized_client is a service error (§2.3)"),
                    ("temporarily_unavailable", "interaction_required",
                     "as for unauthorized_client: the silent flow's catch-all; idflow keeps it a (retryable) service error"),
                    ("interaction_required", "interaction_required", None)):
    case(OBJC_COMMON, "IdentityCore/src/requests/MSIDSilentTokenRequest.m",
         f"silent refresh answered {err} (isErrorRecoverableByUserInteraction)", "silent", 400,
         {"error": err, "error_description": "descr", "suberror": ""},
         "MSALErrorInteractionRequired (-50002)" if k == "interaction_required" else "the server error as is (not UI)", k, why=why,
         origin=BUILT)

# --- MSAL Android (common) ---------------------------------------------------

A_MOCK = "testutils/src/main/java/com/microsoft/identity/internal/testutils/mocks/MockServerResponse.java"
A_BASE = {"error_codes": [70000], "timestamp": "2019-10-23 21:05:16Z", "trace_id": "8497799a-e9f9-402f-a951-7060b5014600",
          "correlation_id": "390d7507-c607-4f05-bb8a-51a2a7a6282b", "error_uri": "https://login.microsoftonline.com/error?code=70000"}
for flow in ("silent", "token"):
    case(ANDROID, A_MOCK, "getMockTokenFailureInvalidGrantResponse", flow, 400,
         dict({"error": "invalid_grant", "error_description": "AADSTS70000: Provided grant is invalid or malformed"}, suberror="", **A_BASE),
         "UiRequiredException (ExceptionAdapter: invalid_grant)", "interaction_required")
    case(ANDROID, A_MOCK, "getMockTokenFailureInvalidScopeResponse (suberror bad_token)", flow, 400,
         dict({"error": "invalid_scope", "error_description": "AADSTS70000: Provided scope is invalid or malformed"}, suberror="bad_token", **A_BASE),
         "ServiceException invalid_scope", "service",
         why="idflow's rule includes msal-js's suberror list, where bad_token means the refresh token is dead and "
             "only a sign-in helps; MSAL Android decides on the error alone (§2.3 union rule)")
    case(ANDROID, A_MOCK, "getMockTokenFailureServiceUnavailable (503, suberror bad_token)", flow, 503,
         dict({"error": "service_unavailable", "error_description": "AADSTS70000: Service is unavailable"}, suberror="bad_token", **A_BASE),
         "ServiceException service_unavailable", "service",
         why="the suberror bad_token makes it interaction-required in idflow (msal-js's suberror list, §2.3); "
             "MSAL Android decides on the error alone")
    case(ANDROID, A_MOCK, "getMockTokenFailureProtectionPolicyRequiredResponse", flow, 400,
         dict({"error": "unauthorized_client", "error_description": "AADSTS53005: Application needs to enforce Intune protection policies"},
              suberror="protection_policy_required", **A_BASE),
         "IntuneAppProtectionPolicyRequiredException (a ServiceException)", "service")
A_EA = "common4j/src/main/com/microsoft/identity/common/java/controllers/ExceptionAdapter.java"
for err, sub, k, why in (("interaction_required", None, "interaction_required", None),
                         ("invalid_grant", "client_mismatch", "interaction_required",
                          "MSAL Android's adapter makes any invalid_grant UI-required; idflow follows MSAL.NET, MSAL for "
                          "Java and msal-js, which exclude client_mismatch (the family fallback needs a service error)"),
                         ("invalid_grant", "protection_policy_required", "interaction_required",
                          "as for client_mismatch: idflow excludes protection_policy_required like MSAL.NET and MSAL for Java"),
                         ("consent_required", None, "service",
                          "MSAL Android reads only invalid_grant and interaction_required; idflow follows msal-js for "
                          "consent_required (§2.3 union)"),
                         ("login_required", None, "service",
                          "as for consent_required (§2.3 union)"),
                         ("invalid_client", None, "service", None),
                         ("unauthorized_client", None, "service", None),
                         ("invalid_request", None, "service", None)):
    case(ANDROID, A_EA, f"getExceptionFromTokenErrorResponse with error {err}" + (f", suberror {sub}" if sub else ""),
         "silent", 400, dict({"error": err, "error_description": "AADSTS70000: description"}, **({"suberror": sub} if sub else {})),
         "UiRequiredException" if k == "interaction_required" else "ServiceException", k, why=why,
         origin=BUILT)
for err, k, why in (
        ("authorization_pending", "pending", None),
        ("authorization_declined", "service",
         "idflow's kinds keep a user's refusal apart (cancelled: nothing to show, as a closed browser); MSAL Android "
         "folds it into a ServiceException with a device-code message"),
        ("expired_token", "service", None),
        ("bad_verification_code", "service", None),
        ("invalid_grant", "service",
         "the interaction-required rule applies in every flow (§2.3 union of MSAL.NET and msal-js); MSAL Android's "
         "device-code controller turns every error into a ServiceException")):
    case(ANDROID, "common4j/src/main/com/microsoft/identity/common/java/controllers/BaseController.java",
         f"device code flow token poll answered {err} (validateDeviceCodeFlowServiceResult)", "device_code", 400,
         {"error": err, "error_description": f"AADSTS70016: {err}"},
         "keeps polling" if k == "pending" else "ServiceException with the device-code message for this error",
         k, why=why, origin=BUILT)

# --- platform documentation ----------------------------------------------------

D_ERR = "docs/identity-platform/reference-error-codes.md"
D_DEV = "docs/identity-platform/v2-oauth2-device-code.md"
D_AUTH = "docs/identity-platform/v2-oauth2-auth-code-flow.md"
for err, codes, sub, flow, lib_kind in [
        ("invalid_request", [90014], None, "token", "service"),
        ("unauthorized_client", [700016], None, "token", "service"),
        ("invalid_client", [7000215], None, "token", "service"),
        ("invalid_grant", [70008], None, "silent", "interaction_required"),
        ("invalid_grant", [50173], None, "silent", "interaction_required"),
        ("invalid_grant", [50076], "basic_action", "silent", "interaction_required"),
        ("invalid_grant", [50079], "basic_action", "silent", "interaction_required"),
        ("invalid_grant", [65001], "consent_required", "silent", "interaction_required"),
        ("invalid_grant", [50055], "user_password_expired", "silent", "interaction_required"),
        ("invalid_grant", [53003], "message_only", "silent", "interaction_required"),
        ("invalid_grant", [53000], "additional_action", "silent", "interaction_required"),
        ("interaction_required", [50058], None, "silent", "interaction_required"),
        ("invalid_request", [50142], None, "token", "interaction_required"),
        ("unsupported_grant_type", [70003], None, "token", "service"),
        ("invalid_resource", [500011], None, "token", "service"),
        ("invalid_scope", [70011], None, "token", "service"),
        ("temporarily_unavailable", [50196], None, "token", "service"),
        ("invalid_tenant", [90002], None, "token", "service")]:
    b = {"error": err, "error_description": f"AADSTS{codes[0]}: see the reference.", "error_codes": codes}
    if sub:
        b["suberror"] = sub
    case(DOCS, D_ERR, f"AADSTS{codes[0]} ({err}{', ' + sub if sub else ''})", flow, 400, b,
         "the documented handling: " + {"interaction_required": "sign the user in interactively",
                                       "service": "not fixed by a sign-in"}[lib_kind], lib_kind)
for err, k in (("authorization_pending", "pending"), ("authorization_declined", "cancelled"),
               ("bad_verification_code", "service"), ("expired_token", "service")):
    case(DOCS, D_DEV, f"device code token response error {err}", "device_code", 400,
         {"error": err, "error_description": f"AADSTS70016: {err}."},
         {"pending": "keep polling", "cancelled": "stop polling: the user declined",
          "service": "stop polling"}[k], k)
for err, k in (("access_denied", "cancelled"), ("invalid_request", "service"), ("unauthorized_client", "service"),
               ("unsupported_response_type", "service"), ("server_error", "service"),
               ("temporarily_unavailable", "service"), ("invalid_resource", "service"),
               ("login_required", "interaction_required"), ("interaction_required", "interaction_required"),
               ("consent_required", "interaction_required")):
    case(DOCS, D_AUTH, f"authorize redirect error {err}", "authorize", 302,
         f"https://localhost/myapp/?error={err}&error_description=AADSTS50000%3A+see+the+reference",
         "the documented handling for the authorization response", k, headers=[])


def main():
    names = set()
    counts = {}
    out = []
    for c in CASES:
        x = expect_for(c["input"])
        lib, repo = c["source"]["library"], c["source"]["repo"]
        if not c["name"]:
            tag = TAGS[lib]
            slug = re.sub(r"[^a-z0-9]+", "_", f"{tag}_{c['input']['flow']}_{c['input']['status']}_{c['source']['fixture']}".lower()).strip("_")[:90].strip("_")
            n, i = slug, 2
            while n in names:
                n, i = f"{slug}_{i}", i + 1
            c["name"] = n
        names.add(c["name"])
        mine = decided_kind(x)
        differs = c["library_kind"] is not None and c["library_kind"] != mine
        if differs and not c["why"]:
            raise SystemExit(f"{c['name']}: {lib} decides {c['library_kind']}, idflow {mine}, and no reason is given")
        if not differs and c["why"]:
            raise SystemExit(f"{c['name']}: a reason is given but idflow agrees with {lib}")
        per = counts.setdefault(lib, [0, 0])
        per[0] += 1
        per[1] += differs
        out.append({
            "name": c["name"],
            "about": f"{lib}: {c['source']['fixture']}",
            "source": c["source"],
            "library_decision": c["library_decision"],
            "library_kind": c["library_kind"],
            "idflow_differs": differs,
            "difference": c["why"],
            "input": c["input"],
            "expect": x,
        })
    summary = [{"library": k, "cases": v[0], "differences": v[1]} for k, v in counts.items()]
    origins = {}
    for c in out:
        o = origins.setdefault(c["source"]["library"], {})
        o[c["source"]["origin"]] = o.get(c["source"]["origin"], 0) + 1
    for s in summary:
        s["by_origin"] = origins[s["library"]]
    doc = {"version": 1, "summary": summary, "cases": out}
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for s in summary:
        print(f"{s['library']}: {s['cases']} cases, {s['differences']} differences, {s['by_origin']}")
    print(f"total {len(out)} cases")


if __name__ == "__main__":
    main()
