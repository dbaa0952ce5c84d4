"""A web app that signs users in with the authorization code flow, written
as with msal Python (idflow is a drop-in): the flow dict goes into the
session when the user starts signing in, and whichever worker receives the
redirect completes it. Workers share nothing but the session store.

    IDFLOW_SESSION_DIR=/tmp/sessions flask --app app run --port 5001   # worker A
    IDFLOW_SESSION_DIR=/tmp/sessions flask --app app run --port 5002   # worker B

Configuration, from the environment:
    IDFLOW_AUTHORITY      https://login.microsoftonline.com/<tenant> (or the emulator's)
    IDFLOW_CLIENT_ID      the web app's client id
    IDFLOW_CLIENT_SECRET  its client secret
    IDFLOW_REDIRECT_URI   the registered redirect URI, ending in /callback
    IDFLOW_SESSION_DIR    the session store shared by the workers (a directory)
    IDFLOW_SCOPE          the scope (default: Graph's User.Read)

The session is kept on the server (one JSON file per session id; the cookie
holds only the id): the flow dict holds the PKCE verifier, which must never
travel in a cookie. Any store that keeps JSON works (Redis, a database).
"""

import json
import os
import secrets
import tempfile
from pathlib import Path

from flask import Flask, g, redirect, request

import idflow

app = Flask(__name__)
SESSIONS = Path(os.environ.get("IDFLOW_SESSION_DIR", tempfile.gettempdir()))
SCOPES = [os.environ.get("IDFLOW_SCOPE", "https://graph.microsoft.com/User.Read")]
COOKIE = "sid"


def identity_app():
    """One application object per worker; its token cache is in memory (use
    a SerializableTokenCache in the session store to share tokens too)."""
    if "identity" not in g:
        g.identity = idflow.ConfidentialClientApplication(
            os.environ["IDFLOW_CLIENT_ID"],
            client_credential=os.environ["IDFLOW_CLIENT_SECRET"],
            authority=os.environ["IDFLOW_AUTHORITY"],
        )
    return g.identity


# --- a server-side session store shared by the workers ---------------------------


def _session_file(sid):
    if not sid or not sid.isalnum():
        return None
    return SESSIONS / f"{sid}.json"


def load_session():
    path = _session_file(request.cookies.get(COOKIE))
    try:
        return json.loads(path.read_text()) if path else {}
    except FileNotFoundError:
        return {}


def save_session(response, session):
    sid = request.cookies.get(COOKIE)
    if _session_file(sid) is None:
        sid = secrets.token_hex(16)
    path = _session_file(sid)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(session))  # json.dumps: the flow dict is plain data
    tmp.replace(path)
    response.set_cookie(COOKIE, sid, httponly=True, samesite="Lax")
    return response


# --- the pages ---------------------------------------------------------------------


@app.route("/")
def index():
    user = load_session().get("user")
    if user:
        return f"signed in as {user['preferred_username']} (worker {os.getpid()})\n"
    return "not signed in: visit /login\n", 401


@app.route("/login")
def login():
    session = load_session()
    flow = identity_app().initiate_auth_code_flow(
        SCOPES, redirect_uri=os.environ["IDFLOW_REDIRECT_URI"])
    if "error" in flow:
        return f"cannot start the sign-in: {flow['error']}\n", 502
    session["flow"] = flow
    return save_session(redirect(flow["auth_uri"]), session)


@app.route("/callback", methods=["GET", "POST"])
def callback():
    session = load_session()
    # Popped before use: a flow is redeemed once.
    flow = session.pop("flow", {})
    answer = request.form if request.method == "POST" else request.args
    try:
        result = identity_app().acquire_token_by_auth_code_flow(flow, answer.to_dict())
    except ValueError as e:  # not an answer to our request (forged, replayed, stale)
        return save_session(app.response_class(f"sign-in refused: {e}\n", status=400), session)
    if "error" in result:
        return save_session(
            app.response_class(f"sign-in failed: {result['error']}\n", status=401), session)
    session["user"] = result["id_token_claims"]
    return save_session(redirect("/"), session)
