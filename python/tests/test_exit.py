"""A script that gets a token and ends: every native thread that woke the
call gets back out of Python before the interpreter finalizes. CPython ends a
thread that takes the GIL back after finalization has begun, which on one of
the native library's threads unwinds through Rust frames and can crash the
process (exit 139, seen about once in a few hundred such scripts)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import idflow
import servers

# The private loop's write to its own socket is where a native thread handing
# it a wake-up gives up the GIL; here that thread then stays away long enough
# for the call to end and the script to finish before it comes back.
SCRIPT = r"""
import sys, threading, time
import idflow
from idflow import _common

loop = _common._Loop.get()
write = loop._write_to_self

def slow_wake():
    write()
    if threading.current_thread().name != "idflow-event-loop":
        sys.stdout.write("wake-up began\n")
        sys.stdout.flush()
        time.sleep(0.3)
        sys.stdout.write("wake-up returned\n")
        sys.stdout.flush()

loop._write_to_self = slow_wake
app = idflow.ConfidentialClientApplication(
    sys.argv[1], client_credential=sys.argv[2], authority=sys.argv[3])
result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
print("token" if "access_token" in result else result, flush=True)
"""


def test_the_last_wake_up_returns_before_the_interpreter_ends(admin):
    package_parent = str(Path(idflow.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (package_parent, os.environ.get("PYTHONPATH")) if p))
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, servers.EMULATOR_CONFIDENTIAL, servers.EMULATOR_SECRET,
         servers.emulator_authority()],
        capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "token" in lines, run.stdout
    # Every wake-up that began came back, the one under way when the call
    # ended included (without the wait at exit, CPython ended its thread).
    began = lines.count("wake-up began")
    assert began >= 1, run.stdout
    assert lines.count("wake-up returned") == began, run.stdout
