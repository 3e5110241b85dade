#!/usr/bin/env python3
"""Writes every ```cpp block that defines main() in the given Markdown files to OUTDIR/<doc>_<n>.cpp
and prints the written paths, one per line (CMake compiles each as a program)."""
import pathlib
import re
import sys

out_dir = pathlib.Path(sys.argv[1])
out_dir.mkdir(parents=True, exist_ok=True)
for doc in map(pathlib.Path, sys.argv[2:]):
    blocks = re.findall(r"^```cpp\n(.*?)^```", doc.read_text(encoding="utf-8"), flags=re.S | re.M)
    programs = [b for b in blocks if re.search(r"\bint main\(", b)]
    for n, code in enumerate(programs, 1):
        path = out_dir / f"{doc.stem}_{n}.cpp"
        if not path.exists() or path.read_text(encoding="utf-8") != code:
            path.write_text(code, encoding="utf-8")
        print(path)
