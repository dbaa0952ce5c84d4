#!/usr/bin/env python3
"""Compare idflow's AADSTS table with a copy of Microsoft's reference.

Usage: scripts/aadsts-diff.py REFERENCE.md [--table core/src/error/aadsts.json] [--skeleton]

REFERENCE.md is a local copy of "Microsoft Entra authentication and
authorization error codes" (the markdown source, e.g. MicrosoftDocs/entra-docs
docs/identity-platform/reference-error-codes.md). The script reads the rows of
its AADSTS table ("| AADSTSnnnn | Name - description |") and lists:

  new      numbers the reference lists and the table lacks
  gone     numbers the table holds and the reference no longer lists
  renamed  numbers whose published symbolic name differs from the table's
  twice    numbers the reference lists more than once

--skeleton prints, for each new number, a table entry to complete by hand
(error, decision, who can fix it, and a mitigation in idflow's own words).
Exit status: 0 when no number is new or gone, 1 otherwise, 2 on bad input.
Standard library only.
"""

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROW = re.compile(r"^\s*\|\s*AADSTS(\d+)\s*\|(.*)$")
IDENT = re.compile(r"^[A-Z][A-Za-z0-9_]*$")
TAG = re.compile(r"<[^>]*>")


def published_name(cell):
    """The symbolic name a description cell starts with, if it has one:
    `Name - text`, `Name- text`, a bare `Name`, or a name after markup
    (`... <li>Name - text`) or after a plain phrase (`Invalid Request - Name - text`)."""
    segments = re.split(r"\s*-\s+|\s+-\s*", cell.strip().rstrip("|").strip())
    for seg in segments[:3]:
        seg = seg.rsplit(">", 1)[-1]
        seg = TAG.sub("", seg).strip().rstrip(".")
        upper = sum(ch.isupper() for ch in seg)
        if IDENT.match(seg) and upper >= 2 and any(ch.islower() for ch in seg):
            return seg
    return None


def read_reference(path):
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            rows.append((int(m.group(1)), published_name(m.group(2))))
    return rows


def main(argv):
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("reference", help="a local copy of the reference's markdown")
    ap.add_argument("--table", default=str(here / "core/src/error/aadsts.json"))
    ap.add_argument("--skeleton", action="store_true", help="print entries to complete for new numbers")
    args = ap.parse_args(argv)
    try:
        ref_rows = read_reference(args.reference)
        table = json.loads(Path(args.table).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        print(f"aadsts-diff: {e}", file=sys.stderr)
        return 2
    if not ref_rows:
        print(f"aadsts-diff: no '| AADSTSnnnn |' rows in {args.reference}", file=sys.stderr)
        return 2
    codes = {c["number"]: c for c in table["codes"]}
    counts = Counter(n for n, _ in ref_rows)
    ref_names = {}
    for n, name in ref_rows:
        if name and n not in ref_names:
            ref_names[n] = name
    new = sorted(set(counts) - set(codes))
    gone = sorted(set(codes) - set(counts))
    renamed = sorted(
        (n, codes[n]["name"], ref_names[n])
        for n in set(codes) & set(ref_names)
        if codes[n]["name"] != ref_names[n]
    )
    twice = sorted(n for n, c in counts.items() if c > 1)

    src = table.get("source", {})
    print(f"table: {len(codes)} numbers (from {src.get('repo')} {src.get('path')} @ {src.get('commit', '')[:8]}, dated {src.get('date')})")
    print(f"reference: {len(ref_rows)} rows, {len(counts)} numbers, {len(ref_names)} with a published name")
    print(f"new: {len(new)}")
    for n in new:
        print(f"  AADSTS{n} {ref_names.get(n) or '(no published name)'}")
    print(f"gone: {len(gone)}")
    for n in gone:
        print(f"  AADSTS{n} {codes[n]['name']}")
    print(f"renamed: {len(renamed)}")
    for n, ours, theirs in renamed:
        mark = "" if codes[n]["name_published"] else " (table: name not published)"
        print(f"  AADSTS{n} table {ours} / reference {theirs}{mark}")
    print(f"twice: {len(twice)}" + ("" if not twice else ": " + ", ".join(f"AADSTS{n}" for n in twice)))
    if args.skeleton and new:
        print()
        for n in new:
            name = ref_names.get(n)
            entry = {
                "number": n, "name": name or "TODO", "name_published": bool(name),
                "error": "TODO", "suberror": None, "flow": "token", "kind": "TODO",
                "classification": None, "action": "TODO", "fixed_by": "TODO",
                "preset": False, "mitigation": "TODO",
            }
            print(json.dumps(entry) + ",")
    return 1 if new or gone else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
