"""Sign in with idflow and handle every kind of failure the way the MSAL
error guide recommends.

    python signin.py client-credentials   # an app-only token (daemon)
    python signin.py device-code          # a user signs in on another device

Configuration, from the environment:
    IDFLOW_AUTHORITY      https://login.microsoftonline.com/<tenant> (or the emulator's)
    IDFLOW_CLIENT_ID      the app registration's client id
    IDFLOW_CLIENT_SECRET  the client secret (client-credentials only)
    IDFLOW_SCOPE          the scope (default: Graph's .default / User.Read)
    IDFLOW_SIGNIN_TIMEOUT give up on a device-code sign-in after this many seconds
"""

import os
import sys
import threading

import idflow


def handle(result):
    """One line saying what happened and what the app does next. Returns the
    claims to sign in again with, when interaction is required."""
    if "access_token" in result:
        print(f"signed in: token from {result['token_source']}, expires in {result['expires_in']} s")
        return None
    kind, code = result.get("error_kind"), result["error"]
    if kind == "interaction_required":
        # Silent failed: only the user can fix it. Sign in interactively,
        # passing the claims challenge if the service sent one.
        reason = result.get("classification") or "none"
        print(f"interaction required ({reason}, {code}): signing in interactively"
              + (" with the claims" if result.get("claims") else ""))
        return result.get("claims") or ""
    if kind == "throttled":
        print(f"throttled: blocked locally, wait {result.get('retry_after', 0)} s")
    elif kind == "service" and result.get("retry_after") is not None:
        print(f"service error {code}: retry after {result['retry_after']} s")
    elif kind == "service" and result.get("retryable"):
        print(f"service error {code}: retry later")
    elif kind == "service":
        print(f"service error {code}: fix the configuration: {result['mitigation']}")
    elif kind == "cancelled":
        print(f"cancelled ({code}): stopping quietly")
    else:  # client: the call or the local state is wrong
        print(f"client error {code}: fix the call: {result['mitigation']}")
    return None


def device_code(app, scopes, claims=None):
    flow = app.initiate_device_flow(scopes, claims_challenge=claims)
    if "user_code" not in flow:
        return flow
    print(flow["message"], file=sys.stderr)
    timeout = float(os.environ.get("IDFLOW_SIGNIN_TIMEOUT", "300"))
    # msal's way to stop polling from another thread: expire the flow.
    timer = threading.Timer(timeout, lambda: flow.update(expires_at=0))
    timer.start()
    try:
        return app.acquire_token_by_device_flow(flow)
    finally:
        timer.cancel()


def main(mode):
    authority = os.environ["IDFLOW_AUTHORITY"]
    client_id = os.environ["IDFLOW_CLIENT_ID"]
    try:
        if mode == "client-credentials":
            scope = os.environ.get("IDFLOW_SCOPE", "https://graph.microsoft.com/.default")
            app = idflow.ConfidentialClientApplication(
                client_id, client_credential=os.environ["IDFLOW_CLIENT_SECRET"], authority=authority)
            result = app.acquire_token_for_client([scope])
            handle(result)
        else:
            scopes = [os.environ.get("IDFLOW_SCOPE", "User.Read")]
            app = idflow.PublicClientApplication(client_id, authority=authority)
            result = device_code(app, scopes)
            claims = handle(result)
            if claims is not None:  # the interactive sign-in, once
                result = device_code(app, scopes, claims or None)
                handle(result)
    except (ConnectionError, TimeoutError) as e:
        # No answer from the identity provider: keep the user's work, retry later.
        print(f"network error {e.result['error']}: check the connection, retry later")
        return 1
    except ValueError as e:
        # A wrong argument or configuration: a bug to fix, not something to retry.
        print(f"client error: fix the call: {e}")
        return 1
    return 0 if "access_token" in result else 1


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("client-credentials", "device-code"):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
