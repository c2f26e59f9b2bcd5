"""Fetch a pinned uv binary from PyPI into .tools/ using only the Python standard library.

A fresh Debian machine has python3 but neither pip nor venv (python3-venv is a separate
package), so `make` cannot rely on either. uv creates the virtual environment itself, and its
wheel on PyPI carries a static binary: downloading that wheel, checking its pinned SHA-256 and
unpacking one file is all that is needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import stat
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

UV_VERSION = "0.13.9"
# SHA-256 of the wheel per machine architecture, copied from PyPI's simple index.
WHEELS = {
    "x86_64": (
        f"uv-{UV_VERSION}-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19",
    ),
    "aarch64": (
        f"uv-{UV_VERSION}-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl",
        "5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe",
    ),
}
INDEX = os.environ.get("UV_BOOTSTRAP_INDEX", "https://pypi.org/simple")


def wheel_url(filename: str) -> str:
    """Look the wheel's download address up in the PEP 691 JSON simple index."""
    request = urllib.request.Request(
        f"{INDEX}/uv/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        files = json.load(response)["files"]
    for entry in files:
        if entry["filename"] == filename:
            return str(entry["url"])
    raise SystemExit(f"bootstrap-uv: {filename} is not on {INDEX}")


def install(target: Path) -> None:
    machine = platform.machine().lower().replace("amd64", "x86_64").replace("arm64", "aarch64")
    if machine not in WHEELS:
        raise SystemExit(f"bootstrap-uv: no pinned uv wheel for {machine}; install uv yourself")
    filename, sha256 = WHEELS[machine]
    with tempfile.TemporaryDirectory() as tmp:
        wheel = Path(tmp) / filename
        with (
            urllib.request.urlopen(wheel_url(filename), timeout=300) as response,
            wheel.open("wb") as out,
        ):
            shutil.copyfileobj(response, out)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != sha256:
            raise SystemExit(f"bootstrap-uv: checksum mismatch for {filename}: {digest}")
        with zipfile.ZipFile(wheel) as archive:
            member = f"uv-{UV_VERSION}.data/scripts/uv"
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            with archive.open(member) as src, partial.open("wb") as dst:
                shutil.copyfileobj(src, dst)
    partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    partial.replace(target)


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".tools/uv")
    install(target)
    sys.stderr.write(f"bootstrap-uv: installed uv {UV_VERSION} at {target}\n")


if __name__ == "__main__":
    main()
