#!/usr/bin/env python3
"""Lists C++ function bodies longer than a limit: `long-functions.py [--max N] PATH...`.

A body is a brace block at namespace or class level (not a lambda or a nested block) whose
header ends in `)` plus qualifiers; its length counts the lines from the header to the closing
brace. Comments and strings are blanked first, so braces in them do not count."""
import argparse
import pathlib
import re
import sys

BLANK = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
HEADER_END = re.compile(r'\)\s*(const|override|noexcept|final|mutable|->\s*[\w:<>,\s*&]+|\s)*$')
SCOPE = re.compile(r'\b(namespace|class|struct|enum|union)\b[^;{()]*$')


def blank(text):
    return BLANK.sub(lambda m: re.sub(r'[^\n]', ' ', m.group(0)), text)


def functions(text):
    """Yields (name, first line, last line) of each function body at namespace/class level."""
    code = blank(text)
    stack = []  # per open brace: True when it opened a scope (namespace/class), else False
    start = 0  # where the current declaration's text begins
    for i, ch in enumerate(code):
        if ch in ';}' and all(stack):
            start = i + 1
        if ch == '{':
            if all(stack):
                header = code[start:i]
                if SCOPE.search(header) or not HEADER_END.search(header.split('=')[-1]):
                    stack.append(True)
                    start = i + 1
                    continue
                first = code.count('\n', 0, start + len(header) - len(header.lstrip()))
                name = re.findall(r'([~\w:]+)\s*\(', header)
                stack.append((name[0] if name else '?', first + 1))
            else:
                stack.append(False)
        elif ch == '}' and stack:
            top = stack.pop()
            if isinstance(top, tuple) and all(stack):
                yield top[0], top[1], code.count('\n', 0, i) + 1
                start = i + 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--max', type=int, default=60)
    parser.add_argument('paths', nargs='+')
    args = parser.parse_args()
    found = 0
    for root in args.paths:
        path = pathlib.Path(root)
        files = sorted(path.rglob('*.cc')) + sorted(path.rglob('*.h')) if path.is_dir() else [path]
        for file in files:
            for name, first, last in functions(file.read_text()):
                if last - first + 1 > args.max:
                    found += 1
                    print(f'{file}:{first}-{last}: {name} ({last - first + 1} lines)')
    return 0 if found == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
