"""Compile the routing engine and its vocabulary with mypyc (``make setup`` runs this).

    .venv/bin/python scripts/compile.py [--force]

Builds the modules of ``hotline.compiled.COMPILED_MODULES`` into C extensions placed beside
their sources (``src/hotline/routing/engine.cpython-311-*.so``…), with mypy's strict checks,
and records each source's SHA-256 in ``src/hotline/_compiled.json``; ``hotline`` imports a
module from source instead when its record no longer matches. Does nothing when the record
matches already. Needs a C compiler and Python's headers (``scripts/system-deps.sh
compiler``). Generated C and objects go to ``build/mypyc`` (not kept in git).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
BUILD = ROOT / "build" / "mypyc"

# The checks mypyc compiles under: the strict settings the project's own mypy run applies to
# these modules (pyproject.toml), without the plugins other modules need.
MYPY_CONFIG = """\
[mypy]
python_version = 3.11
strict = True
ignore_missing_imports = True
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="build even if up to date")
    args = parser.parse_args()
    sys.path.insert(0, str(SRC))
    os.environ["HOTLINE_INTERPRETED"] = "1"  # read the sources, not an older build
    from hotline import compiled

    if not args.force and compiled.up_to_date():
        print("compile: the routing engine is compiled and up to date")
        return 0
    from mypyc.build import mypycify
    from setuptools import setup

    began = time.perf_counter()
    compiled.MANIFEST.unlink(missing_ok=True)
    # Every extension of an earlier build goes first, so a module taken off the list can
    # never run from an old build.
    for extension in [*SRC.glob("hotline_engine__mypyc*"), *(SRC / "hotline").rglob("*.so")]:
        extension.unlink()
    BUILD.mkdir(parents=True, exist_ok=True)
    config = BUILD / "mypy.ini"
    config.write_text(MYPY_CONFIG, encoding="utf-8")
    paths = [str(compiled.source_path(m).relative_to(SRC)) for m in compiled.COMPILED_MODULES]
    os.chdir(SRC)  # mypyc names modules by their paths from here
    extensions = mypycify(
        ["--config-file", str(config), *paths],
        opt_level="3",
        target_dir=str(BUILD / "c"),
        # One group: every module goes into one shared library (hotline_engine__mypyc), so
        # calls between them — the engine's handlers, pools, timers and records, the event
        # vocabulary — stay native C calls and attribute reads, as within one module.
        separate=False,
        group_name="hotline_engine",
    )
    setup(
        name="hotline-compiled",
        ext_modules=extensions,
        script_args=[
            "--quiet",
            "build_ext",
            "--inplace",
            "--build-temp",
            str(BUILD / "temp"),
            "--build-lib",
            str(BUILD / "lib"),
        ],
    )
    record = {
        "sources": {m: compiled.source_digest(m) for m in compiled.COMPILED_MODULES},
        "python": sys.version.split()[0],
    }
    compiled.MANIFEST.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(
        f"compile: {len(paths)} modules compiled with mypyc in "
        f"{time.perf_counter() - began:.0f} s: {', '.join(compiled.COMPILED_MODULES)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
