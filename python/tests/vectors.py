"""Loads testdata/vectors.json (the cross-language cases) and turns a case's
input into facade arguments, as testdata/README.md specifies."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Tuple

VECTORS = Path(
    os.environ.get("IDFLOW_VECTORS")
    or Path(__file__).resolve().parents[2] / "testdata" / "vectors.json"
)


#: The corpus of responses from the MSAL libraries' test suites, next to the vectors.
CORPUS = VECTORS.with_name("corpus.json")


def load_cases() -> List[Dict[str, Any]]:
    """Every case, read at collection time so pytest counts each one."""
    return _load(VECTORS)


def load_corpus() -> List[Dict[str, Any]]:
    """testdata/corpus.json: the same schema, each case also citing its source."""
    return _load(CORPUS)


def _load(path: Path) -> List[Dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    cases = data["cases"]
    names = [c["name"] for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{path}: duplicate case names {duplicates}")
    return cases


def body_bytes(inp: Dict[str, Any]) -> bytes:
    """The body as one of `body` (UTF-8 text), `body_base64` or `body_repeat`."""
    given = [k for k in ("body", "body_base64", "body_repeat") if k in inp]
    if len(given) > 1:
        raise ValueError(f"a response input has more than one body: {given}")
    if "body" in inp:
        return inp["body"].encode("utf-8")
    if "body_base64" in inp:
        return base64.b64decode(inp["body_base64"])
    if "body_repeat" in inp:
        rep = inp["body_repeat"]
        return rep["chunk"].encode("utf-8") * int(rep["times"])
    return b""


def headers(inp: Dict[str, Any]) -> List[Tuple[str, str]]:
    return [(name, value) for name, value in inp.get("headers", [])]


def response_args(inp: Dict[str, Any]) -> Tuple[int, List[Tuple[str, str]], bytes, str]:
    return inp["status"], headers(inp), body_bytes(inp), inp["flow"]
