#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Pull top-level C definitions out of a kernel source file by name.

The file is split into top-level items: preprocessor lines (with their
continuations), function definitions (ending at the brace that closes the
body) and declarations (ending at a ';' outside any brace or paren).
Comments and string/char literals are skipped while matching braces.

Usage:
  extract.py [--nostatic] [--line] [--root DIR] FILE SPEC...
    SPEC is KIND:NAME, KIND one of func, proto, struct, var, define;
    a leading '?' makes the item optional (skipped if absent).
  extract.py --has FILE KIND:NAME        exit 0 if present, 1 if not
  extract.py --funcs FILE                list non-static function names
  extract.py --protos [--nostatic] FILE  prototypes of every function
                                         definition (static ones only with
                                         --nostatic)
"""
import re
import sys

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ATTR_WORDS = {
    "__attribute__", "__aligned", "__section", "__alias", "__printf",
    "__weak", "__init", "__ref", "__pure", "__cold", "asmlinkage",
    "__visible", "__used", "__maybe_unused", "__always_inline", "noinline",
}


class Item:
    def __init__(self, kind, start, end, text, line, head=None):
        self.kind = kind      # 'pp', 'func', 'decl'
        self.start = start
        self.end = end
        self.text = text
        self.line = line
        self.head = head      # for functions: text before the body's '{'
        self.name = None
        self.sub = None       # for decl: 'struct', 'var', 'proto', 'other'


def skip_comment_or_literal(s, i):
    """If s[i] starts a comment or literal, return the index after it."""
    c = s[i]
    if c == "/" and i + 1 < len(s):
        if s[i + 1] == "*":
            j = s.find("*/", i + 2)
            return len(s) if j < 0 else j + 2
        if s[i + 1] == "/":
            j = s.find("\n", i + 2)
            return len(s) if j < 0 else j
    if c in "\"'":
        j = i + 1
        while j < len(s):
            if s[j] == "\\":
                j += 2
                continue
            if s[j] == c or s[j] == "\n":
                return j + 1
            j += 1
        return len(s)
    return None


def strip_noise(t):
    """The text with comments and literals blanked out (same length)."""
    out = []
    i = 0
    while i < len(t):
        j = skip_comment_or_literal(t, i)
        if j is not None:
            chunk = t[i:j]
            if t[i] in "\"'":
                out.append(t[i] + " " * (len(chunk) - 2) + (t[j - 1] if len(chunk) > 1 else ""))
            else:
                out.append(re.sub(r"[^\n]", " ", chunk))
            i = j
        else:
            out.append(t[i])
            i += 1
    return "".join(out)


def split_items(s):
    items = []
    i = 0
    n = len(s)
    line_of = lambda pos: s.count("\n", 0, pos) + 1
    while i < n:
        # skip whitespace and comments between items
        if s[i].isspace():
            i += 1
            continue
        j = skip_comment_or_literal(s, i) if s[i] == "/" else None
        if j is not None:
            i = j
            continue
        start = i
        if s[i] == "#":
            # preprocessor line with continuations (comments may span lines)
            j = i
            while j < n:
                k = skip_comment_or_literal(s, j) if s[j] in "/\"'" else None
                if k is not None:
                    j = k
                    continue
                if s[j] == "\\" and j + 1 < n and s[j + 1] == "\n":
                    j += 2
                    continue
                if s[j] == "\n":
                    break
                j += 1
            items.append(Item("pp", start, j, s[start:j], line_of(start)))
            i = j
            continue
        # a C item
        depth_paren = 0
        j = i
        kind = None
        head = None
        while j < n:
            c = s[j]
            k = skip_comment_or_literal(s, j) if c in "/\"'" else None
            if k is not None:
                j = k
                continue
            if c == "#" and (j == 0 or s[j - 1] == "\n"):
                # preprocessor line inside an item: skip it whole
                while j < n and s[j] != "\n":
                    if s[j] == "\\" and j + 1 < n and s[j + 1] == "\n":
                        j += 1
                    j += 1
                continue
            if c == "(":
                depth_paren += 1
            elif c == ")":
                depth_paren -= 1
            elif c == ";" and depth_paren == 0:
                kind = "decl"
                j += 1
                break
            elif c == "{" and depth_paren == 0:
                before = strip_noise(s[start:j])
                is_func = before.rstrip().endswith(")") and "=" not in before
                # a brace-matched block
                depth = 0
                while j < n:
                    c2 = s[j]
                    k = skip_comment_or_literal(s, j) if c2 in "/\"'" else None
                    if k is not None:
                        j = k
                        continue
                    if c2 == "{":
                        depth += 1
                    elif c2 == "}":
                        depth -= 1
                        if depth == 0:
                            j += 1
                            break
                    j += 1
                if is_func:
                    kind = "func"
                    head = s[start:s.index("{", start + len(before.rstrip()))]
                    break
                # struct/initializer: continue to the ';'
                continue
            j += 1
        items.append(Item(kind or "decl", start, j, s[start:j], line_of(start), head))
        i = j
    for it in items:
        name_item(it)
    return items


def name_before_paren(t):
    clean = strip_noise(t)
    for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", clean):
        if m.group(1) not in ATTR_WORDS:
            return m.group(1)
    return None


def name_item(it):
    clean = strip_noise(it.text)
    if it.kind == "pp":
        m = re.match(r"#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)", clean)
        if m:
            it.name = m.group(1)
            it.sub = "define"
        return
    if it.kind == "func":
        it.name = name_before_paren(it.head)
        return
    # declaration
    m = re.match(r"\s*(?:typedef\s+)?(struct|union|enum)\s+([A-Za-z_]\w*)\s*\{", clean)
    if m and re.search(r"\}\s*;\s*$", clean):
        it.sub = "struct"
        it.name = m.group(2)
        return
    # variable: identifier before the first '=', '[' or ';' at depth 0
    depth = 0
    cut = len(clean)
    for idx, c in enumerate(clean):
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        elif depth == 0 and c in "=[;":
            cut = idx
            break
    head = clean[:cut]
    if "(" in head:
        # prototype (or macro invocation); name before the first paren
        it.sub = "proto"
        it.name = name_before_paren(head)
        return
    ids = IDENT.findall(head)
    if ids:
        it.sub = "var"
        it.name = ids[-1]


def strip_static(head):
    return re.sub(r"\b(static|inline)\b", lambda m: " " * len(m.group(0)), head)


def find(items, kind, name):
    for it in items:
        if it.name != name:
            continue
        if kind == "func" and it.kind == "func":
            return it
        if kind == "proto" and it.kind == "func":
            return it
        if kind in ("struct", "var", "define") and it.sub == kind:
            return it
    return None


def main(argv):
    nostatic = False
    line = False
    root = None
    mode = "extract"
    args = []
    it = iter(argv)
    for a in it:
        if a == "--nostatic":
            nostatic = True
        elif a == "--line":
            line = True
        elif a == "--root":
            root = next(it)
        elif a in ("--has", "--funcs", "--protos"):
            mode = a[2:]
        else:
            args.append(a)
    if not args:
        sys.stderr.write(__doc__)
        return 2
    path = args[0]
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        src = f.read()
    items = split_items(src)
    rel = path
    if root and path.startswith(root.rstrip("/") + "/"):
        rel = path[len(root.rstrip("/")) + 1:]

    if mode == "has":
        kind, name = args[1].split(":", 1)
        return 0 if find(items, kind, name) else 1
    if mode == "funcs":
        for x in items:
            if x.kind == "func" and not re.search(r"\bstatic\b", strip_noise(x.head)):
                print(x.name)
        return 0
    if mode == "protos":
        for x in items:
            if x.kind != "func":
                continue
            static = re.search(r"\bstatic\b", strip_noise(x.head))
            if static and not nostatic:
                continue
            head = strip_static(x.head) if nostatic else x.head
            print(" ".join(strip_noise(head).split()) + ";")
        return 0

    out = []
    for spec in args[1:]:
        optional = spec.startswith("?")
        kind, name = spec.lstrip("?").split(":", 1)
        x = find(items, kind, name)
        if x is None:
            if optional:
                continue
            sys.stderr.write("extract.py: %s: no %s named %s\n" % (path, kind, name))
            return 1
        if kind == "proto":
            head = strip_static(x.head) if nostatic else x.head
            out.append(" ".join(strip_noise(head).split()) + ";\n")
            continue
        text = x.text
        if kind == "func" and nostatic:
            text = strip_static(x.head) + text[len(x.head):]
        if line:
            out.append('#line %d "%s"\n' % (x.line, rel))
        out.append(text + "\n")
    sys.stdout.write("".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
