#!/usr/bin/env python3
"""Checks that each layer library of CMakeLists.txt links exactly the layers its sources use.

`check-layers.py [REPO]`: for every `ferry_layer(NAME DIR DEPS...)`, the folders src/DIR
includes (`#include "X/..."`) must be reachable through its ferry_* links, and each ferry_*
layer it links directly must be included by at least one of its files. Exit 1 with one line per
mismatch, 0 when the wiring matches."""
import pathlib
import re
import sys

LAYER = re.compile(r'^ferry_layer\((\w+)\s+(\w+)([^)]*)\)', re.M)
INCLUDE = re.compile(r'^#include "(\w+)/', re.M)


def main():
    repo = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else '.')
    cmake = (repo / 'CMakeLists.txt').read_text()
    folder, links = {}, {}
    for name, directory, deps in LAYER.findall(cmake):
        folder[name] = directory
        links[name] = [dep for dep in deps.split() if dep.startswith('ferry_')]
    library = {directory: name for name, directory in folder.items()}
    problems = []
    for name, directory in folder.items():
        used = set()
        for source in (repo / 'src' / directory).rglob('*'):
            if source.suffix in ('.cc', '.h'):
                used.update(INCLUDE.findall(source.read_text()))
        used = {library[d] for d in used if d in library and d != directory}
        reachable, todo = set(), list(links[name])
        while todo:
            dep = todo.pop()
            if dep not in reachable:
                reachable.add(dep)
                todo.extend(links.get(dep, []))
        for dep in sorted(used - reachable):
            problems.append(f'{name}: includes {folder[dep]}/ but does not link {dep}')
        for dep in links[name]:
            if dep not in used:
                problems.append(f'{name}: links {dep} but includes no {folder[dep]}/ header')
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
