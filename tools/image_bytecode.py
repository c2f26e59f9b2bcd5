"""Build-time bytecode for the container image, with the standard library in `pythonXY.zip`.

The official Python images ship the standard library without bytecode, and a read-only
container cannot keep what it compiles, so without this every start compiles the standard
modules the service imports. `python -B image_bytecode.py --root DIR -- COMMAND [ARG...]`
starts the service as the image starts it (COMMAND, on a free loopback port), lets it come
up, stops it with SIGTERM, and takes the modules it imported from CPython's own import log
(`-X importtime`): what the service really loads at start, whatever its code does to get
there. It compiles those and writes the files under DIR, each at the path it takes in the
image (DIR/usr/local/lib/python311.zip, ...), for one COPY into the runtime stage:

- standard modules go into the deflated `pythonXY.zip` that CPython already puts ahead of
  the standard-library directory on `sys.path` for this use: about a third of the size of
  the same bytecode as loose files.
  A package in the zip is looked up only there, so it goes in whole; when that costs more
  than the loose bytecode of its loaded modules (`encodings` has 120 codecs and the service
  loads two), those are compiled in place instead;
- every other module (the dependencies; a file in the standard-library directory that links
  elsewhere, such as Debian's sitecustomize) gets its usual `__pycache__` file;
- the package of COMMAND's own entry point (the service's code) is left out: it changes with
  every commit, and its bytecode belongs to the project's layer, so that this output, and the
  layer made from it, stay the same until the dependencies or the service's imports change.
  Every file and directory written gets the same fixed time, for the same reason.

The .pyc files are hash-based (PEP 552), so no source timestamp is involved, which COPY need
not preserve: unchecked in the zip, which holds no sources; checked in place, so that an
edited source still wins over its stale bytecode. Code objects keep the real source path, so
tracebacks still show standard-library lines.
Exit status: 0 done, 2 bad usage, a service that does not start and stop cleanly, or a base
image this cannot handle.
"""

from __future__ import annotations

import argparse
import functools
import importlib.machinery
import importlib.metadata
import importlib.util
import io
import marshal
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# How the service is started for the import log: its configuration variables
# (docs/configuration.md) on a loopback port of its own, no drain wait at SIGTERM, and the
# runtime stage's ENV (no bytecode written, so that nothing here depends on earlier runs).
SERVICE_ENV = {"HOST": "127.0.0.1", "SHUTDOWN_DRAIN_SECONDS": "0", "PYTHONUNBUFFERED": "1"}
IMPORT_LOG_ENV = {"PYTHONPROFILEIMPORTTIME": "1", "PYTHONDONTWRITEBYTECODE": "1"}
IMPORT_LOG_PREFIX = "import time:"
# Generous: a multi-arch build runs the other architecture's service under QEMU.
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0
# Installed packages may live inside the standard-library directory (the official image's
# site-packages does); they are dependencies, not the standard library.
NOT_STDLIB = frozenset({"site-packages", "dist-packages", "lib-dynload"})
# A fixed entry time keeps the zip byte-for-byte reproducible from the same sources, and the
# same time on every file written keeps the layer COPY makes of them the same too.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FIXED_MTIME = 315532800  # ZIP_DATE as a Unix time (UTC)
# The .pyc header's flags word (PEP 552): bit 0 hash-based, bit 1 check the source's hash.
UNCHECKED_HASH_FLAGS = 0b01
CHECKED_HASH_FLAGS = 0b11


class UsageError(Exception):
    """Bad arguments or an interpreter this script cannot handle: exit status 2."""


@dataclass(frozen=True, slots=True)
class Plan:
    zipped: dict[str, Path]  # archive name -> source
    in_place: list[Path]  # compiled into their own __pycache__


def started_imports(command: Sequence[str]) -> list[str]:
    """The modules `command` (the service) imports from its start until it has stopped after
    SIGTERM, in import order, read from CPython's import log on its stderr."""
    port = _free_port()
    env = {**os.environ, **SERVICE_ENV, "PORT": str(port), **IMPORT_LOG_ENV}
    with tempfile.TemporaryFile("w+") as log:
        try:
            service = subprocess.Popen(  # noqa: S603 - the command the Dockerfile names
                list(command), env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        except OSError as error:
            raise UsageError(f"cannot start {command[0]}: {error.strerror}") from None
        try:
            failure = _start_and_stop(service, port)
        finally:
            if service.poll() is None:
                service.kill()
                service.wait()
        log.seek(0)
        lines = log.read().splitlines()
    if failure:
        told = [line for line in lines if not line.startswith(IMPORT_LOG_PREFIX)]
        raise UsageError("\n".join([f"{' '.join(command)} {failure}; its output:", *told[-20:]]))
    names = [
        line.rpartition("|")[2].strip()
        for line in lines
        if line.startswith(IMPORT_LOG_PREFIX) and not line.endswith("imported package")
    ]
    if not names:
        raise UsageError(f"{command[0]} wrote no import log: is it a Python program?")
    return names


def _start_and_stop(service: subprocess.Popen[str], port: int) -> str:
    """Wait until `service` listens on `port`, then stop it with SIGTERM; what went wrong, or
    "" when it came up and then ended with status 0."""
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _listening(port):
        if service.poll() is not None:
            return f"ended with status {service.returncode} before it listened on {address}"
        if time.monotonic() > deadline:
            return f"did not listen on {address} within {START_TIMEOUT_S:g} s"
        time.sleep(0.05)
    service.send_signal(signal.SIGTERM)
    try:
        status = service.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"did not stop within {STOP_TIMEOUT_S:g} s of SIGTERM"
    return f"ended with status {status} after SIGTERM" if status else ""


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def source_of(name: str) -> Path | None:
    """The source file module `name` is imported from, found as the import system finds it
    but without running any package's `__init__`; None for a built-in, frozen or extension
    module (they carry their own code) or one that cannot be found here."""
    if name in sys.builtin_module_names or importlib.machinery.FrozenImporter.find_spec(name):
        return None
    search: list[str] | None = None
    parts = name.split(".")
    spec = None
    for depth in range(1, len(parts) + 1):
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[:depth]), search)
        if spec is None:
            return None
        search = list(spec.submodule_search_locations or [])
    if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
        return None
    return Path(str(spec.origin))


def own_package(command: str) -> str | None:
    """The top-level package of the console script `command`'s entry point, if it is one."""
    script = Path(command).name
    for entry in importlib.metadata.entry_points(group="console_scripts", name=script):
        return entry.module.partition(".")[0]
    return None


def loaded_sources(command: Sequence[str]) -> list[Path]:
    """The source files of every module `command` imports at start, but its own package's."""
    own = own_package(command[0])
    sources: dict[Path, None] = {}
    for name in started_imports(command):
        if own is not None and name.partition(".")[0] == own:
            continue
        source = source_of(name)
        if source is not None:
            sources[source] = None
    return list(sources)


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


def settle_times(root: Path) -> None:
    """Give every file and directory under `root` (itself included) the same fixed time."""
    for path in [root, *root.rglob("*")]:
        os.utime(path, (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, required=True, help="an empty output directory")
    parser.add_argument(
        "command", nargs="+", metavar="COMMAND", help="how the image starts the service"
    )
    args = parser.parse_args(argv)
    try:
        if not sys.flags.dont_write_bytecode:
            raise UsageError("run with python -B: this script's own imports need no bytecode")
        if sys.pycache_prefix is not None:
            raise UsageError("PYTHONPYCACHEPREFIX is set: the image's imports would not look there")
        if args.root.exists() and any(args.root.iterdir()):
            raise UsageError(f"--root {args.root} is not empty")
        archive = stdlib_zip()
        work = plan(loaded_sources(args.command), Path(sysconfig.get_paths()["stdlib"]))
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    written = _under(args.root, archive)
    write_zip(written, work.zipped)
    write_in_place(args.root, work.in_place)
    settle_times(args.root)
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
