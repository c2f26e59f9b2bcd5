"""Build-time bytecode for the container image, with the standard library in `pythonXY.zip`.

The official Python images ship the standard library without bytecode, and a read-only
container cannot keep what it compiles, so without this every start compiles the ~125
standard modules the server imports. `python -B image_bytecode.py --root DIR MODULE...`
finds every module that importing MODULE... loads (in a child interpreter, so that only
their imports count), compiles them and writes the files under DIR, each at the path it
takes in the image (DIR/usr/local/lib/python311.zip, ...), for one COPY into the runtime stage:

- standard modules go into the deflated `pythonXY.zip` that CPython already puts ahead of
  the standard-library directory on `sys.path` for this use: about a third of the size of
  the same bytecode as loose files.
  A package in the zip is looked up only there, so it goes in whole; when that costs more
  than the loose bytecode of its loaded modules (`encodings` has 120 codecs and the server
  loads two), those are compiled in place instead;
- every other module (the dependencies; a file in the standard-library directory that links
  elsewhere, such as Debian's sitecustomize) gets its usual `__pycache__` file.

The .pyc files are hash-based (PEP 552), so no source timestamp is involved, which COPY need
not preserve: unchecked in the zip, which holds no sources; checked in place, so that an
edited source still wins over its stale bytecode. Code objects keep the real source path, so
tracebacks still show standard-library lines.
Exit status: 0 done, 2 bad usage or a base image this cannot handle.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import io
import json
import marshal
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Run in a fresh interpreter: the source of every module that importing argv[1:] loads
# through the source loader (frozen and built-in modules carry their own code).
PROBE = """
import importlib, importlib.machinery, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(
    m.__spec__.origin for n, m in list(sys.modules.items())
    if n != "__main__" and getattr(m, "__spec__", None) is not None
    and isinstance(m.__spec__.loader, importlib.machinery.SourceFileLoader)
)))
"""
# Installed packages may live inside the standard-library directory (the official image's
# site-packages does); they are dependencies, not the standard library.
NOT_STDLIB = frozenset({"site-packages", "dist-packages", "lib-dynload"})
# A fixed entry time keeps the zip byte-for-byte reproducible from the same sources.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# The .pyc header's flags word (PEP 552): bit 0 hash-based, bit 1 check the source's hash.
UNCHECKED_HASH_FLAGS = 0b01
CHECKED_HASH_FLAGS = 0b11


class UsageError(Exception):
    """Bad arguments or an interpreter this script cannot handle: exit status 2."""


@dataclass(frozen=True, slots=True)
class Plan:
    zipped: dict[str, Path]  # archive name -> source
    in_place: list[Path]  # compiled into their own __pycache__


def loaded_sources(modules: Iterable[str]) -> list[Path]:
    """The source files of every module that importing `modules` loads."""
    probe = subprocess.run(  # noqa: S603 - this interpreter, a fixed program, module names
        [sys.executable, "-B", "-c", PROBE, *modules],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        raise UsageError(f"importing {' '.join(modules)} failed:\n{probe.stderr.strip()}")
    return [Path(origin) for origin in json.loads(probe.stdout)]


def stdlib_zip() -> Path:
    """The zip entry CPython computes for the standard library (e.g. /usr/lib/python311.zip)."""
    name = f"python{sys.version_info.major}{sys.version_info.minor}.zip"
    for entry in map(Path, sys.path):
        if entry.name == name:
            if entry.exists():
                raise UsageError(f"{entry} already exists: this base image ships its own")
            return entry
    raise UsageError(f"{name} is not on sys.path, so the interpreter would never read it")


def bytecode(source: Path, *, checked: bool = False) -> bytes:
    """Hash-based .pyc bytes for `source`, its real path kept in the code object."""
    flags = CHECKED_HASH_FLAGS if checked else UNCHECKED_HASH_FLAGS
    return importlib.util.MAGIC_NUMBER + flags.to_bytes(4, "little") + _compiled(source)


@functools.cache
def _compiled(source: Path) -> bytes:
    """The source hash and marshalled code: the .pyc after its magic number and flags."""
    data = source.read_bytes()
    # dont_inherit: not this script's `from __future__ import annotations`.
    code = compile(data, str(source), "exec", dont_inherit=True)
    return importlib.util.source_hash(data) + marshal.dumps(code)


def compiles(source: Path) -> bool:
    """False for a file no import could load either (test data with deliberate errors)."""
    try:
        bytecode(source)
    except (SyntaxError, ValueError):
        return False
    return True


def deflated_size(sources: Iterable[Path]) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, source in enumerate(sources):
            _add(archive, str(index), source)
    return len(buffer.getvalue())


def loose_size(sources: Iterable[Path]) -> int:
    return sum(len(bytecode(source)) for source in sources)


def plan(sources: Iterable[Path], stdlib: Path) -> Plan:
    """Which loaded modules go into the zip and which are compiled in place."""
    packages: dict[str, list[Path]] = {}
    zipped: dict[str, Path] = {}
    in_place: list[Path] = []
    for source in sources:
        parts = _stdlib_parts(source, stdlib)
        if parts is None:
            in_place.append(source)
        elif len(parts) == 1:
            zipped[_member(source, stdlib)] = source
        else:
            packages.setdefault(parts[0], []).append(source)
    for package, loaded in sorted(packages.items()):
        whole = sorted(path for path in (stdlib / package).rglob("*.py") if compiles(path))
        if deflated_size(whole) <= loose_size(loaded):
            zipped.update((_member(source, stdlib), source) for source in whole)
        else:
            in_place.extend(loaded)
    return Plan(zipped, sorted(in_place))


def write_zip(path: Path, members: dict[str, Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "x") as archive:
        for name, source in sorted(members.items()):
            _add(archive, name, source)


def write_in_place(root: Path, sources: Iterable[Path]) -> None:
    """Each source's bytecode at root + the __pycache__ path an import looks for."""
    for source in sources:
        target = _under(root, Path(importlib.util.cache_from_source(str(source))))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(bytecode(source, checked=True))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, required=True, help="an empty output directory")
    parser.add_argument("modules", nargs="+", metavar="MODULE", help="what the server imports")
    args = parser.parse_args(argv)
    try:
        if not sys.flags.dont_write_bytecode:
            raise UsageError("run with python -B: this script's own imports need no bytecode")
        if sys.pycache_prefix is not None:
            raise UsageError("PYTHONPYCACHEPREFIX is set: the image's imports would not look there")
        if args.root.exists() and any(args.root.iterdir()):
            raise UsageError(f"--root {args.root} is not empty")
        archive = stdlib_zip()
        work = plan(loaded_sources(args.modules), Path(sysconfig.get_paths()["stdlib"]))
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    written = _under(args.root, archive)
    write_zip(written, work.zipped)
    write_in_place(args.root, work.in_place)
    print(
        f"{archive}: {len(work.zipped)} standard modules in {written.stat().st_size} bytes; "
        f"{len(work.in_place)} other modules compiled to __pycache__"
    )
    return 0


def _under(root: Path, path: Path) -> Path:
    return root / path.relative_to(path.anchor)


def _stdlib_parts(source: Path, stdlib: Path) -> tuple[str, ...] | None:
    """The path of a standard module below `stdlib`; None for anything else."""
    if not source.resolve().is_relative_to(stdlib.resolve()):
        return None  # outside, or a link to configuration elsewhere
    try:
        parts = source.relative_to(stdlib).parts
    except ValueError:
        return None
    return None if NOT_STDLIB & set(parts) else parts


def _member(source: Path, stdlib: Path) -> str:
    return source.relative_to(stdlib).with_suffix(".pyc").as_posix()


def _add(archive: zipfile.ZipFile, name: str, source: Path) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, bytecode(source), compresslevel=9)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
