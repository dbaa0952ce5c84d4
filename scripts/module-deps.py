#!/usr/bin/env python3
"""Import cycles and upward imports between the modules of one Rust crate.

Reads a crate's `src/` tree and builds the graph of references between its
modules: `use crate::a::...`, `crate::a::...` in code, `super::...`,
`self::...`, and (in a use declaration) a path that starts with a child
module's name. A reference counts as an edge between the two modules that
differ right below their common parent: between top-level modules, and
between the children of one folder (`a/b.rs` -> `a/c.rs` is an edge b -> c
inside `a`). A name re-exported by a module (`pub use x::Name`) resolves to
the module that defines it, so `use crate::Name` counts as a use of the
module behind `Name`. A parent file using its own children, or a child
using an item its parent defines, is no edge: that is the folder's facade.

Reports
  (a) cycles: every strongly connected set of two or more modules of one
      folder, with the edges that close it and where each is written;
  (b) upward imports, given a layer order: a module using a module of a
      higher layer.

Layer order: `--layers FILE` (or, when absent, `<crate>/module-layers.txt`
next to `src/` if it exists). One layer a line, lowest first; a line lists
module paths separated by spaces (`wire`, `model`, `faults/rules`); `#`
starts a comment. A module belongs to the layer of the longest listed path
that contains it; a module in no layer is reported. `--layers` also takes
the order inline: "wire model; endpoints; admin" (`;` between layers).

`--skip-tests` leaves out code under `#[cfg(test)]` (test modules and
their files). `--edges` lists every edge with where it is written.
`--self-test` alone checks the checker on small crates it writes.

Exit status: 0, unless `--fail-on-cycles` and a cycle was found, or
`--fail-on-layers` and an upward import or an unlisted module was found (1).
Standard library only. Usage, from the repository's root:
    python3 scripts/module-deps.py --fail-on-cycles emulator/src
"""

import argparse
import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
PATH_IN_CODE = re.compile(r"(?<![A-Za-z0-9_:])((?:crate|super|self)(?:::(?:" + IDENT + r"|\*))+)")


def strip_code(text):
    """Blanks comments, string and char literals; keeps newlines and lifetimes."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "/" and nxt == "*":
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if text[i] == "\n":
                        out.append("\n")
                    i += 1
            continue
        raw = re.match(r'b?r(#*)"', text[i:i + 260]) if c in "rb" else None
        if raw and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = '"' + raw.group(1)
            j = text.find(end, i + raw.end())
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
            continue
        if c == '"' or (c == "b" and nxt == '"' and (i == 0 or not text[i - 1].isalnum())):
            j = i + (2 if c == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
            continue
        if c == "'":
            if nxt == "\\":
                j = text.find("'", i + 2)
                if text[i + 2:i + 3] == "'":
                    j = i + 3
                i = (n if j < 0 else j + 1)
                out.append("' '")
                continue
            if i + 2 < n and text[i + 2] == "'":
                out.append("' '")
                i += 3
                continue
        out.append(c)
        i += 1
    return "".join(out)


class Crate:
    def __init__(self, src, skip_tests=False):
        self.src = os.path.normpath(src)
        self.skip_tests = skip_tests
        self.files = {}  # module path (tuple) -> file path
        for root, dirs, names in os.walk(self.src):
            dirs.sort()
            rel = os.path.relpath(root, self.src)
            parts = () if rel == "." else tuple(rel.split(os.sep))
            if parts[:1] == ("bin",):
                continue
            for name in sorted(names):
                if not name.endswith(".rs"):
                    continue
                stem = name[:-3]
                if not parts and stem in ("lib", "main"):
                    module = ()
                elif stem == "mod":
                    module = parts
                else:
                    module = parts + (stem,)
                if module in self.files and module == ():
                    continue  # lib.rs wins over main.rs
                self.files[module] = os.path.join(root, name)
        self.modules = set(self.files)
        self.code = {m: strip_code(open(f, encoding="utf-8").read()) for m, f in self.files.items()}
        self.test_spans = {m: self._test_spans(m) if skip_tests else [] for m in self.modules}
        if skip_tests:
            test_only = set()
            for module in self.modules:
                for start, end in self.test_spans[module]:
                    for m in re.finditer(r"(?<![A-Za-z0-9_])mod\s+(" + IDENT + r")\s*;", self.code[module][start:end + 1]):
                        test_only.add(module + (m.group(1),))
            self.modules = {m for m in self.modules if not any(m[:len(t)] == t for t in test_only)}
        self.reexports = {m: self._reexports(m) for m in self.modules}

    def _test_spans(self, module):
        """Where items under `#[cfg(test)]` stand in a file: [(start, end)]."""
        text, spans = self.code[module], []
        for m in re.finditer(r"#\[cfg\(test\)\]", text):
            k = m.end()
            while True:  # further attributes on the same item
                a = re.match(r"\s*#\[", text[k:])
                if not a:
                    break
                depth, k = 0, k + a.end() - 1
                while k < len(text):
                    depth += {"[": 1, "]": -1}.get(text[k], 0)
                    k += 1
                    if depth == 0:
                        break
            semi, brace = text.find(";", k), text.find("{", k)
            if brace < 0 or (0 <= semi < brace):
                spans.append((m.start(), semi + 1 if semi >= 0 else len(text)))
                continue
            depth, j = 0, brace
            while j < len(text):
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            spans.append((m.start(), j))
        return spans

    def in_test(self, module, offset):
        return any(start <= offset <= end for start, end in self.test_spans[module])

    def children(self, module):
        return {m[-1] for m in self.modules if len(m) == len(module) + 1 and m[:-1] == module}

    # ---- use trees ---------------------------------------------------------

    @staticmethod
    def expand_use(tree):
        """`a::{b, c::{d as e}, f::*}` -> [(['a','b'], 'b'), (['a','c','d'], 'e'), ...]."""
        tree = re.sub(r"\s*(::|[{},])\s*", r"\1", " ".join(tree.split()))
        out = []

        def walk(prefix, s):
            items, depth, start = [], 0, 0
            for k, ch in enumerate(s):
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                elif ch == "," and depth == 0:
                    items.append(s[start:k])
                    start = k + 1
            items.append(s[start:])
            for item in items:
                if not item:
                    continue
                brace = item.find("{")
                if brace >= 0:
                    head = [p for p in item[:brace].split("::") if p]
                    walk(prefix + head, item[brace + 1:item.rfind("}")])
                    continue
                alias = None
                if " as " in item:
                    item, alias = item.rsplit(" as ", 1)
                segs = prefix + [p for p in item.split("::") if p]
                if segs and segs[-1] == "self":
                    segs = segs[:-1]
                if segs:
                    out.append((segs, alias or segs[-1]))

        walk([], tree)
        return out

    def uses(self, module):
        """(pub?, segments, local name, offset) for each use declaration of a file."""
        text = self.code[module]
        pattern = r"(?<![A-Za-z0-9_])(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);"
        for m in re.finditer(pattern, text):
            for segs, name in self.expand_use(m.group(2)):
                yield bool(m.group(1)), segs, name, m.start()

    def _reexports(self, module):
        found = {}
        for public, segs, name, _ in self.uses(module):
            if public and name != "*":
                found[name] = segs
        return found

    # ---- resolution --------------------------------------------------------

    def resolve(self, base, segs, in_use, depth=0):
        """The module a path refers to, or None (outside the crate)."""
        if not segs:
            return None
        first = segs[0]
        if first == "crate":
            here, rest = (), segs[1:]
        elif first in ("super", "self"):
            here, rest = base, segs
            while rest and rest[0] in ("super", "self"):
                if rest[0] == "super":
                    here = here[:-1]
                rest = rest[1:]
        elif in_use and first in self.children(base):
            here, rest = base, segs
        else:
            return None
        while rest and here + (rest[0],) in self.modules:
            here, rest = here + (rest[0],), rest[1:]
        if rest and depth < 8:
            target = self.reexports.get(here, {}).get(rest[0])
            if target is not None:
                found = self.resolve(here, target + rest[1:], True, depth + 1)
                if found is not None:
                    return found
        return here

    def references(self, module):
        """(target module, line) for every reference written in a file."""
        text = self.code[module]
        # inline `mod name { ... }` blocks change what `super::`/`self::` mean
        scopes = []  # (start, end, inline path)
        for m in re.finditer(r"(?<![A-Za-z0-9_])mod\s+(" + IDENT + r")\s*\{", text):
            depth, k = 0, m.end() - 1
            while k < len(text):
                if text[k] == "{":
                    depth += 1
                elif text[k] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            scopes.append((m.start(), k, m.group(1)))

        def base_at(offset):
            inner = [name for start, end, name in scopes if start < offset < end]
            return module + tuple(inner)

        def line_of(offset):
            return text.count("\n", 0, offset) + 1

        use_spans = []
        for _, segs, _, offset in self.uses(module):
            if self.in_test(module, offset):
                continue
            base = base_at(offset)
            target = self.resolve(base, segs, True)
            if target is not None:
                yield self._outer(target), line_of(offset)
        for m in re.finditer(r"(?<![A-Za-z0-9_])use\s+[^;]+;", text):
            use_spans.append((m.start(), m.end()))
        for m in PATH_IN_CODE.finditer(text):
            if any(s <= m.start() < e for s, e in use_spans) or self.in_test(module, m.start()):
                continue
            before = text[max(0, m.start() - 8):m.start()]
            if re.search(r"\bin\s+$", before):
                continue  # pub(in crate::x)
            segs = m.group(1).split("::")
            target = self.resolve(base_at(m.start()), segs, False)
            if target is not None:
                yield self._outer(target), line_of(m.start())

    def _outer(self, path):
        # inline modules are part of the file that holds them
        while path and path not in self.modules:
            path = path[:-1]
        return path


def edges_of(crate):
    """{scope: {(a, b): [locations]}} between sibling modules of each folder."""
    edges = {}
    for module in sorted(crate.modules):
        for target, line in crate.references(module):
            common = 0
            while common < min(len(module), len(target)) and module[common] == target[common]:
                common += 1
            if common == len(module) or common == len(target):
                continue  # self, a parent's own item, or a parent using its child
            scope = module[:common]
            pair = (module[common], target[common])
            where = os.path.relpath(crate.files[module], crate.src) + ":" + str(line)
            locations = edges.setdefault(scope, {}).setdefault(pair, [])
            if where not in locations:
                locations.append(where)
    return edges


def cycles_of(pairs):
    """Strongly connected components with two or more nodes (Tarjan)."""
    graph = {}
    for a, b in pairs:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def read_layers(spec):
    if os.path.isfile(spec):
        lines = open(spec, encoding="utf-8").read().splitlines()
    else:
        lines = spec.split(";")
    layers = []
    for line in lines:
        line = line.split("#", 1)[0].split()
        if line:
            layers.append([tuple(p.strip("/").split("/")) for p in line])
    return layers


def layer_of(layers, path):
    best, rank = None, None
    for k, layer in enumerate(layers):
        for entry in layer:
            if path[:len(entry)] == entry and (best is None or len(entry) > len(best)):
                best, rank = entry, k
    return rank


def name(scope, node):
    return "/".join(scope + (node,))


def self_test():
    """Checks the checker on small crates written to a temporary folder."""
    import contextlib
    import io
    import tempfile

    def run(files, *flags):
        with tempfile.TemporaryDirectory() as root:
            src = os.path.join(root, "src")
            for path, text in files.items():
                full = os.path.join(src, path)
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "w", encoding="utf-8") as f:
                    f.write(text)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = main([src, *flags])
            return code, out.getvalue()

    ring = {
        "lib.rs": "mod a;\nmod b;\nmod c;\npub use c::Thing;\n",
        "a.rs": "use crate::b::{self, B as Bee};\n",
        "b.rs": "// use crate::a; (a comment)\nconst S: &str = \"crate::a::x\";\nfn f() { crate::Thing::new(); }\n",
        "c/mod.rs": "mod x;\nmod y;\npub use x::Thing;\n",
        "c/x.rs": "use super::y::Y;\npub struct Thing;\n",
        "c/y.rs": "pub struct Y;\nfn g() -> super::Thing { todo!() }\n"
        "#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::a;\n}\n",
    }
    code, out = run(ring, "--fail-on-cycles")
    # c -> a only in test code; b -> c only through the re-exported Thing;
    # c/y -> c/x through the parent's re-export; the comment and string count for nothing
    assert code == 1 and "cycle 1 in crate root: 3 modules: a b c" in out, out
    assert "cycle 2 in c/: 2 modules: x y" in out and "c -> a  c/y.rs:6" in out, out
    code, out = run(ring, "--skip-tests")
    assert code == 0 and "cycles: 1" in out and "cycle 1 in c/: 2 modules: x y" in out, out
    ring["b.rs"] += "use crate::a::A;\n"
    code, out = run(ring, "--skip-tests", "--edges")
    assert "cycles: 2" in out and "cycle 1 in crate root: 2 modules: a b" in out, out
    assert "edge b -> c  b.rs:3" in out and "edge c/y -> c/x  c/y.rs:2" in out, out
    assert "edge b -> a  b.rs:4" in out and "b.rs:1" not in out and "b.rs:2" not in out, out
    code, out = run(ring, "--skip-tests", "--layers", "c; b; a", "--fail-on-layers")
    assert code == 1 and "upward: b (layer 1) -> a (layer 2)  b.rs:4" in out, out
    code, out = run(ring, "--skip-tests", "--layers", "c; a b", "--fail-on-layers")
    assert code == 0 and "upward imports: 0" in out, out
    code, out = run(ring, "--skip-tests", "--layers", "a b", "--fail-on-layers")
    assert code == 1 and "not in any layer: c" in out, out
    print("module-deps self-test: ok")
    return 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", help="a crate's src/ folder (or --self-test alone)")
    parser.add_argument("--layers", help="layer order: a file, or 'a b; c; d' lowest first")
    parser.add_argument("--fail-on-cycles", action="store_true")
    parser.add_argument("--fail-on-layers", action="store_true")
    parser.add_argument("--skip-tests", action="store_true", help="leave out code under #[cfg(test)]")
    parser.add_argument("--edges", action="store_true", help="also list every edge")
    args = parser.parse_args(argv)

    if not os.path.isdir(args.src):
        parser.error(f"{args.src}: not a folder")
    crate = Crate(args.src, args.skip_tests)
    edges = edges_of(crate)
    total = sum(len(p) for p in edges.values())
    print(f"{args.src}: {len(crate.modules) - 1} modules, {total} edges between sibling modules")

    found_cycles = 0
    for scope in sorted(edges):
        pairs = edges[scope]
        for component in cycles_of(pairs):
            found_cycles += 1
            members = set(component)
            where = "/".join(scope) + "/" if scope else "crate root"
            print(f"cycle {found_cycles} in {where}: {len(component)} modules: {' '.join(component)}")
            for (a, b), locations in sorted(pairs.items()):
                if a in members and b in members:
                    more = f" (+{len(locations) - 1})" if len(locations) > 1 else ""
                    print(f"  {a} -> {b}  {locations[0]}{more}")
    print(f"cycles: {found_cycles}")

    layer_spec = args.layers
    if layer_spec is None:
        default = os.path.join(os.path.dirname(crate.src), "module-layers.txt")
        layer_spec = default if os.path.isfile(default) else None
    layer_problems = 0
    if layer_spec:
        layers = read_layers(layer_spec)
        for module in sorted(m for m in crate.modules if m):
            if layer_of(layers, module) is None:
                layer_problems += 1
                print(f"not in any layer: {'/'.join(module)}")
        upward = 0
        for scope in sorted(edges):
            for (a, b), locations in sorted(edges[scope].items()):
                la, lb = layer_of(layers, scope + (a,)), layer_of(layers, scope + (b,))
                if la is not None and lb is not None and la < lb:
                    upward += 1
                    print(f"upward: {name(scope, a)} (layer {la}) -> {name(scope, b)} (layer {lb})  {locations[0]}")
        layer_problems += upward
        print(f"upward imports: {upward} (layers from {layer_spec})")

    if args.edges:
        for scope in sorted(edges):
            for (a, b), locations in sorted(edges[scope].items()):
                print(f"edge {name(scope, a)} -> {name(scope, b)}  {' '.join(locations)}")

    if args.fail_on_cycles and found_cycles:
        return 1
    if args.fail_on_layers and layer_problems:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
