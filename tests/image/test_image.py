"""The service image, built with the machine's engine and checked from outside the container.

Each container runs as the Kubernetes manifests run the pod: read-only root file system with no
tmpfs, no capabilities, no privilege gain, its port published on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import tomllib
from pathlib import Path

import pytest
from tests.image import layers
from tests.image.client import get
from tests.image.dockerfile import REPO, arg_default
from tests.image.engine import Engine
from tests.image.harness import BUILD_ARGS, TAG, Container, Containers

import argo_python
from argo_python.config import Settings

pytestmark = pytest.mark.image

APP_UID = arg_default("APP_UID")
APP_GID = arg_default("APP_GID")
KILL_TIMEOUT_S = 30
# Mounts the engine itself provides; anything else writable would be a dependency on a tmpfs.
ENGINE_MOUNTS = ("/dev", "/proc", "/sys", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf")
# `python -v` names the file each module's code object came from: a quoted .pyc path when
# bytecode was used, the bare .py path when the module had to be compiled at start-up.
COMPILED_AT_START = re.compile(r"^# code object from (/\S+\.py)$", re.MULTILINE)
# `python -v`'s line for each import: the module and the loader that ran it.
IMPORTED = re.compile(r"^import '(?P<name>[^']+)' # (?P<loader>.*)$", re.MULTILINE)
BYTECODE_USED = re.compile(r"^# code object from '(/\S+\.pyc)'$", re.MULTILINE)
# The .pyc flags word (PEP 552): bit 0 set for the hash-based files written at build time.
HASH_BASED = 0b01
# Left out of the copy a rebuild starts from: nothing of these is in the build context anyway.
NOT_COPIED = (".git", ".venv", ".tools", ".mypy_cache", ".pytest_cache", ".ruff_cache")
# The top layers, rebuilt when src/ changes: the project's files, then the bytecode of the
# standard modules that only the project imports (an empty layer when there are none).
PROJECT_LAYERS = 2


def exec_in(engine: Engine, container: Container, *argv: str) -> str:
    return engine.run("exec", container.name, *argv).stdout


def run_once(engine: Engine, image: str, *argv: str, user: str | None = None) -> str:
    """Run a one-off command in a fresh container of `image` and return its output."""
    user_args = ["--user", user] if user else []
    return engine.run("run", "--rm", *engine.run_flags, *user_args, image, *argv).stdout


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        pytest.param(
            "/hello", 200, {"message": f"Hello from {Settings().service_name}!"}, id="hello"
        ),
        pytest.param("/fibonacci/10", 200, {"n": 10, "result": 55}, id="fibonacci-10"),
        pytest.param("/healthz", 200, {"status": "ok"}, id="healthz"),
        pytest.param("/readyz", 200, {"status": "ready"}, id="readyz"),
    ],
)
def test_published_port_answers_as_the_api_contract_says(
    service: Container, path: str, status: int, body: object
) -> None:
    response = get(service.url + path)
    assert (response.status, response.content_type, response.json()) == (
        status,
        "application/json",
        body,
    )


def test_server_runs_as_the_fixed_non_root_uid_and_gid(engine: Engine, service: Container) -> None:
    status = exec_in(engine, service, "cat", "/proc/1/status")
    ids = dict(
        line.split(":", 1) for line in status.splitlines() if line.startswith(("Uid", "Gid"))
    )
    assert ids["Uid"].split() == [APP_UID] * 4
    assert ids["Gid"].split() == [APP_GID] * 4
    assert engine.inspect("image", TAG)["Config"]["User"] == f"{APP_UID}:{APP_GID}"


def test_server_is_pid_1_so_that_the_stop_signal_reaches_it(
    engine: Engine, service: Container
) -> None:
    argv = exec_in(engine, service, "cat", "/proc/1/cmdline").split("\0")
    assert argv[:2] == ["/app/.venv/bin/python", "/app/.venv/bin/argo-python"]


def test_server_needs_no_writable_file_system(engine: Engine, service: Container) -> None:
    assert engine.inspect("container", service.name)["HostConfig"]["ReadonlyRootfs"] is True
    mounts = [
        line.split() for line in exec_in(engine, service, "cat", "/proc/1/mounts").splitlines()
    ]
    writable = [
        point
        for _, point, _, options, *_ in mounts
        if "rw" in options.split(",") and not point.startswith(ENGINE_MOUNTS)
    ]
    root_options = next(options for _, point, _, options, *_ in mounts if point == "/")
    assert ("ro" in root_options.split(","), writable) == (True, [])
    # The server has been serving from this file system all along: it still answers.
    assert get(service.url + "/fibonacci/10").status == 200


def test_stop_ends_the_server_by_sigterm_well_before_the_kill_timeout(
    engine: Engine, containers: Containers
) -> None:
    container = containers.start("stop")
    started = time.monotonic()
    engine.run("stop", "-t", str(KILL_TIMEOUT_S), container.name, timeout=KILL_TIMEOUT_S + 30)
    elapsed = time.monotonic() - started

    state = engine.inspect("container", container.name)["State"]
    logs = engine.run("logs", container.name)
    lines = (logs.stdout + logs.stderr).splitlines()
    events = [json.loads(line).get("event") for line in lines if line.startswith("{")]
    # SIGKILL would show as exit code 137 after the full timeout; the drain takes ~3 s.
    assert (state["ExitCode"], events[-2:]) == (0, ["drain", "stop"])
    assert elapsed < KILL_TIMEOUT_S / 2


def test_every_module_loaded_while_serving_comes_from_build_time_bytecode(
    engine: Engine, containers: Containers
) -> None:
    container = containers.start("bytecode", "PYTHONVERBOSE=1", "SHUTDOWN_DRAIN_SECONDS=0")
    for path in ("/hello", "/fibonacci/90", "/metrics", "/openapi.json", "/missing"):
        get(container.url + path)
    engine.run("stop", "-t", str(KILL_TIMEOUT_S), container.name, timeout=KILL_TIMEOUT_S + 30)
    logs = engine.run("logs", container.name)

    assert "# code object from '" in logs.stderr  # the verbose import log is really there
    assert COMPILED_AT_START.findall(logs.stderr) == []


def _start_up_log(engine: Engine, containers: Containers) -> str:
    """`python -v`'s log of the service from its start until it has stopped, with the one
    /healthz request the harness makes to see that it is up."""
    container = containers.start("start-up", "PYTHONVERBOSE=1", "SHUTDOWN_DRAIN_SECONDS=0")
    engine.run("stop", "-t", str(KILL_TIMEOUT_S), container.name, timeout=KILL_TIMEOUT_S + 30)
    return engine.run("logs", container.name).stderr


def test_start_up_modules_run_from_the_bytecode_stage_and_the_zip_holds_only_them(
    engine: Engine, image: str, containers: Containers
) -> None:
    log = _start_up_log(engine, containers)
    zipped = {
        match["name"]
        for match in IMPORTED.finditer(log)
        if match["loader"].startswith("<zipimporter")
    }
    # Bytecode read from a file: unless it is the service's own package's, it must have been
    # written by tools/image_bytecode.py (hash-based), not by the project layer's import step.
    own = f"/{argo_python.__name__}/"
    from_files = sorted(path for path in BYTECODE_USED.findall(log) if own not in path)
    program = (
        "import json, sys, zipfile\n"
        "archive = next(entry for entry in sys.path if entry.endswith('.zip'))\n"
        "flags = {path: int.from_bytes(open(path, 'rb').read(8)[4:8], 'little')\n"
        "         for path in sys.argv[1:]}\n"
        "print(json.dumps({'names': zipfile.ZipFile(archive).namelist(), 'flags': flags}))"
    )
    found = json.loads(run_once(engine, image, "python", "-c", program, *from_files))
    top_level = {name.split("/")[0].removesuffix(".pyc") for name in found["names"]}

    assert zipped, "no module of the start-up came from the standard-library zip"
    assert COMPILED_AT_START.findall(log) == []
    assert {path: flags & HASH_BASED for path, flags in found["flags"].items()} == dict.fromkeys(
        from_files, HASH_BASED
    )
    # Nothing the start-up does not load: at most the rest of a package it loads from.
    assert top_level == {name.partition(".")[0] for name in zipped}


def test_standard_library_zip_comes_before_its_directory_and_holds_whole_packages(
    engine: Engine, image: str
) -> None:
    # A package in the zip is looked up only there: every module of it must be in it, also
    # those the service imports later or never.
    program = (
        "import json, pathlib, sys, sysconfig, zipfile\n"
        "stdlib = pathlib.Path(sysconfig.get_paths()['stdlib'])\n"
        "archive = next(entry for entry in sys.path if entry.endswith('.zip'))\n"
        "names = set(zipfile.ZipFile(archive).namelist())\n"
        "packages = sorted({name.split('/')[0] for name in names if '/' in name})\n"
        "expected = {path.relative_to(stdlib).with_suffix('.pyc').as_posix()\n"
        "            for package in packages for path in (stdlib / package).rglob('*.py')}\n"
        "first = sys.path.index(archive) < sys.path.index(str(stdlib))\n"
        "print(json.dumps({'first': first, 'packages': packages,\n"
        "    'missing': sorted(expected - names)}))"
    )
    found = json.loads(run_once(engine, image, "python", "-c", program))

    assert found["first"] is True
    assert found["packages"]
    assert found["missing"] == []


def test_image_declares_port_command_and_labels_from_build_args(engine: Engine, image: str) -> None:
    config = engine.inspect("image", image)["Config"]
    labels = config["Labels"]
    assert list(config["ExposedPorts"]) == ["8080/tcp"]
    assert config["Cmd"] == ["/app/.venv/bin/argo-python"]  # exec form: the server is PID 1
    expected = {
        f"org.opencontainers.image.{key.lower()}": value for key, value in BUILD_ARGS.items()
    }
    assert {key: labels.get(key) for key in expected} == expected


def test_image_holds_the_base_dependencies_and_no_extras_or_dev_groups(
    engine: Engine, image: str
) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    base = {_name(spec) for spec in project["project"]["dependencies"]}
    optional = {
        _name(spec)
        for specs in [
            *project["project"]["optional-dependencies"].values(),
            *project["dependency-groups"].values(),
        ]
        for spec in specs
        if isinstance(spec, str)
    }
    listing = (
        "import importlib.metadata as m; print(*(d.metadata['Name'] for d in m.distributions()))"
    )
    installed = {_name(name) for name in run_once(engine, image, "python", "-c", listing).split()}

    assert (base - installed, optional & installed) == (set(), set())
    assert "argo-python" in installed


def test_image_carries_no_build_tools_or_package_caches(engine: Engine, image: str) -> None:
    leftovers = (
        "import pathlib, shutil;"
        "tools = [t for t in ('uv', 'gcc', 'cc', 'make') if shutil.which(t)];"
        "paths = [p for p in ('/opt/uv', '/src', '/dist', '/stage', '/root/.cache')"
        " if pathlib.Path(p).exists()];"
        "print(*tools, *paths)"
    )
    assert run_once(engine, image, "python", "-c", leftovers, user="0").split() == []


def test_rebuild_after_editing_src_reuses_every_layer_below_the_project(
    engine: Engine, image: str, build_args: dict[str, str], tmp_path: Path
) -> None:
    context = tmp_path / "context"
    shutil.copytree(REPO, context, ignore=shutil.ignore_patterns(*NOT_COPIED, "__pycache__"))
    # The same edit every run: the next session reuses this build instead of piling up layers.
    marker = "# edited by the image test to check which layers a rebuild reuses"
    edited = context / "src" / "argo_python" / "__init__.py"
    edited.write_text(edited.read_text() + marker + "\n")
    rebuilt = f"{TAG}-rebuild"
    try:
        engine.build(context, rebuilt, build_args)
        before = engine.inspect("image", image)["RootFS"]["Layers"]
        after = engine.inspect("image", rebuilt)["RootFS"]["Layers"]
        shipped = run_once(
            engine,
            rebuilt,
            "python",
            "-c",
            "import argo_python, pathlib; print(pathlib.Path(argo_python.__file__).read_text())",
        )
    finally:
        engine.run("rmi", rebuilt, check=False)

    kept = len(before) - PROJECT_LAYERS  # base, user, dependencies, their bytecode
    assert (len(after), after[:kept]) == (len(before), before[:kept])
    assert after[kept] != before[kept]  # the project's files
    assert marker in shipped


def test_rebuild_for_a_new_revision_relabels_and_reuses_every_layer_but_the_last(
    engine: Engine, image: str, build_args: dict[str, str]
) -> None:
    revision = "fedcba9876543210fedcba9876543210fedcba98"
    rebuilt = f"{TAG}-revision"
    try:
        engine.build(REPO, rebuilt, {**build_args, "REVISION": revision})
        labels = engine.inspect("image", rebuilt)["Config"]["Labels"]
        before = engine.inspect("image", image)["RootFS"]["Layers"]
        after = engine.inspect("image", rebuilt)["RootFS"]["Layers"]
    finally:
        engine.run("rmi", rebuilt, check=False)

    # A layer cache that ignored the new value would hand back the old label.
    assert labels["org.opencontainers.image.revision"] == revision
    assert (len(after), after[:-1]) == (len(before), before[:-1])


def test_project_layer_is_small_and_the_added_size_is_reported(
    size_report: layers.SizeReport,
) -> None:
    print(size_report.render())  # also in the terminal summary of the run
    below, project = (
        size_report.added[:-PROJECT_LAYERS],
        size_report.added[-PROJECT_LAYERS:],
    )
    dependencies = max(below, key=lambda layer: layer.size)
    # What a change under src/ ships: the project's layers alone.
    assert sum(layer.size for layer in project) < layers.MB
    assert size_report.added_size <= layers.TARGET_BYTES
    assert "/app/.venv" in dependencies.created_by


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string (PEP 503)."""
    bare = re.split(r"[\s\[<>=!~;@(]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", bare).lower()
