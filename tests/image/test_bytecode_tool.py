"""tools/image_bytecode.py, run here on this machine's interpreter and on made-up stdlib trees.

The image test checks the result inside the real image; these check the choices the tool
makes and that what it writes is what the import system loads.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from tests.image.dockerfile import REPO
from tools import image_bytecode

TOOL = REPO / "tools" / "image_bytecode.py"
# A module whose bytecode deflates well: many similar functions.
REPETITIVE = "".join(f"def function_{i}(value):\n    return value + {i}\n\n" for i in range(60))


def _tree(root: Path, files: dict[str, str]) -> dict[str, Path]:
    paths = {}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths[name] = path
    return paths


def _run(*argv: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """This interpreter with `argv`; bytecode writing is decided by -B alone, not by the caller."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.run(
        [sys.executable, *map(str, argv)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
    )


def test_single_modules_go_into_the_zip_and_dependencies_stay_in_place(tmp_path: Path) -> None:
    stdlib = tmp_path / "lib" / "python3.11"
    files = _tree(
        stdlib,
        {
            "solo.py": REPETITIVE,
            "site-packages/dependency.py": REPETITIVE,
            "dist-packages/debian_dependency.py": REPETITIVE,
            "lib-dynload/not_really.py": "x = 1\n",
        },
    )
    elsewhere = _tree(tmp_path / "app", {"service.py": "x = 1\n", "etc/customize.py": ""})
    # Debian links sitecustomize.py in the standard library to a configuration file in /etc.
    linked = stdlib / "sitecustomize.py"
    linked.symlink_to(elsewhere["etc/customize.py"])

    plan = image_bytecode.plan([*files.values(), *elsewhere.values(), linked], stdlib)

    assert plan.zipped == {"solo.pyc": files["solo.py"]}
    assert plan.in_place == sorted(
        [
            files["site-packages/dependency.py"],
            files["dist-packages/debian_dependency.py"],
            files["lib-dynload/not_really.py"],
            elsewhere["service.py"],
            elsewhere["etc/customize.py"],
            linked,
        ]
    )


def test_a_package_goes_in_whole_when_that_is_smaller_than_its_loaded_modules(
    tmp_path: Path,
) -> None:
    stdlib = tmp_path / "stdlib"
    files = _tree(
        stdlib,
        {
            "compact/__init__.py": REPETITIVE,
            "compact/used.py": REPETITIVE,
            "compact/lazy/__init__.py": "",
            "compact/lazy/later.py": "x = 1\n",
            # Test data that no import could load either is left out, not a build failure.
            "compact/tests/bad_syntax.py": "def broken(:\n",
        },
    )

    plan = image_bytecode.plan([files["compact/__init__.py"], files["compact/used.py"]], stdlib)

    # Whole, subpackages included: a submodule imported later is looked up in the zip only.
    assert plan.zipped == {
        "compact/__init__.pyc": files["compact/__init__.py"],
        "compact/lazy/__init__.pyc": files["compact/lazy/__init__.py"],
        "compact/lazy/later.pyc": files["compact/lazy/later.py"],
        "compact/used.pyc": files["compact/used.py"],
    }
    assert plan.in_place == []


def test_a_package_whose_loaded_part_is_small_is_compiled_in_place(tmp_path: Path) -> None:
    stdlib = tmp_path / "stdlib"
    codecs = {f"codecs_like/codec_{i}.py": REPETITIVE.replace("value", f"v{i}") for i in range(40)}
    files = _tree(stdlib, {"codecs_like/__init__.py": "x = 1\n", **codecs})

    plan = image_bytecode.plan([files["codecs_like/__init__.py"]], stdlib)

    assert (plan.zipped, plan.in_place) == ({}, [files["codecs_like/__init__.py"]])


def test_zipped_bytecode_is_imported_from_the_zip_and_tracebacks_show_the_source(
    tmp_path: Path,
) -> None:
    stdlib = tmp_path / "stdlib"
    files = _tree(
        stdlib,
        {
            "zipped_mod.py": (
                "def fail():\n    raise ValueError('from the zipped module')\n\n"
                "def typed(value: int) -> int:\n    return value\n"
            ),
            "zipped_pkg/__init__.py": "",
            "zipped_pkg/later.py": "ANSWER = 42\n",
        },
    )
    archive = tmp_path / "out" / "python.zip"
    image_bytecode.write_zip(
        archive,
        {name.replace(".py", ".pyc"): path for name, path in files.items()},
    )
    program = (
        "import sys, zipimport, traceback\n"
        f"sys.path.insert(0, {str(archive)!r})\n"
        "import zipped_mod, zipped_pkg.later\n"
        "assert isinstance(zipped_mod.__loader__, zipimport.zipimporter)\n"
        "print(zipped_pkg.later.ANSWER)\n"
        # Compiled with the module's own flags, not the tool's `from __future__` ones.
        "assert zipped_mod.typed.__annotations__ == {'value': int, 'return': int}\n"
        "try:\n    zipped_mod.fail()\n"
        "except ValueError:\n    traceback.print_exc()\n"
    )

    result = _run("-B", "-c", program)

    assert result.stdout == "42\n", result.stderr
    assert f'File "{files["zipped_mod.py"]}", line 2, in fail' in result.stderr
    assert "raise ValueError('from the zipped module')" in result.stderr
    assert all(
        info.date_time == (1980, 1, 1, 0, 0, 0) for info in zipfile.ZipFile(archive).infolist()
    )


def test_bytecode_in_place_needs_no_timestamp_and_yields_to_an_edited_source(
    tmp_path: Path,
) -> None:
    source = _tree(tmp_path, {"hashed.py": "VALUE = 'as built'\n"})["hashed.py"]
    image_bytecode.write_in_place(Path(source.anchor), [source])
    cached = importlib.util.cache_from_source(str(source))
    # COPY need not keep timestamps: a re-dated but unchanged source still uses the bytecode.
    os.utime(source, (0, 0))
    program = "import hashed; print(hashed.VALUE)"

    unchanged = _run("-B", "-v", "-c", program, cwd=tmp_path)
    source.write_text("VALUE = 'edited'\n")
    edited = _run("-B", "-c", program, cwd=tmp_path)

    assert unchanged.stdout == "as built\n", unchanged.stderr
    assert f"# code object from '{cached}'" in unchanged.stderr
    assert edited.stdout == "edited\n", edited.stderr


def test_the_same_sources_give_the_same_zip_byte_for_byte(tmp_path: Path) -> None:
    files = _tree(tmp_path / "stdlib", {"a.py": REPETITIVE, "b.py": "x = 1\n"})
    members = {name + "c": path for name, path in files.items()}
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"

    image_bytecode.write_zip(first, members)
    os.utime(files["a.py"], (0, 0))
    image_bytecode.write_zip(second, members)

    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        pytest.param([], "is not on sys.path", id="not-on-sys-path"),
        pytest.param(["{existing}"], "already exists", id="base-ships-its-own"),
    ],
)
def test_stdlib_zip_refuses_a_path_the_interpreter_would_not_use_as_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entries: list[str], message: str
) -> None:
    existing = tmp_path / f"python{sys.version_info.major}{sys.version_info.minor}.zip"
    existing.write_bytes(b"")
    monkeypatch.setattr(sys, "path", [entry.format(existing=existing) for entry in entries])

    with pytest.raises(image_bytecode.UsageError, match=message):
        image_bytecode.stdlib_zip()


# A stand-in for the service: listens on HOST:PORT like it, imports `json` at start and `wave`
# while stopping, and `tomllib` only for a request, which the tool never makes. EXIT_AT_START
# and EXIT_AT_STOP make it end with that status before listening or after SIGTERM.
SERVICE = """\
import os, signal, socket, sys
import json
if os.environ.get("EXIT_AT_START"):
    sys.stderr.write("cannot listen: address already in use\\n")
    sys.exit(int(os.environ["EXIT_AT_START"]))
server = socket.create_server((os.environ["HOST"], int(os.environ["PORT"])))
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
server.setblocking(False)
while not signal.sigtimedwait({signal.SIGTERM}, 0.05):
    try:
        server.accept()[0].close()
        import tomllib
    except BlockingIOError:
        pass
import wave
sys.exit(int(os.environ.get("EXIT_AT_STOP", "0")))
"""


def _service(tmp_path: Path) -> Path:
    return _tree(tmp_path / "service", {"service.py": SERVICE})["service.py"]


def _zip_of(root: Path) -> Path:
    """Where the tool writes the zip under `root`: CPython on POSIX looks for it at
    <prefix>/lib/pythonXY.zip."""
    version = f"{sys.version_info.major}{sys.version_info.minor}"
    return root / Path(sys.base_prefix).relative_to("/") / "lib" / f"python{version}.zip"


def test_the_tool_compiles_what_the_started_service_imports_until_it_stops(
    tmp_path: Path,
) -> None:
    root = tmp_path / "out"

    result = _run("-B", TOOL, "--root", root, "--", sys.executable, _service(tmp_path))

    assert result.returncode == 0, result.stderr
    names = zipfile.ZipFile(_zip_of(root)).namelist()
    assert {"json/__init__.pyc", "wave.pyc"} <= set(names)
    assert "tomllib/__init__.pyc" not in names
    imported = _run(
        "-I",
        "-c",
        f"import sys, zipimport; sys.path.insert(0, {str(_zip_of(root))!r}); import json\n"
        "assert isinstance(json.__loader__, zipimport.zipimporter), json.__loader__\n"
        "print(json.dumps({'n': 10}))",
    )
    assert imported.stdout == '{"n": 10}\n', imported.stderr


def test_the_services_own_package_is_left_to_the_project_layer(tmp_path: Path) -> None:
    # The real service, started by its console script as the image's CMD starts it.
    import argo_python  # noqa: PLC0415 - the package whose files must not be written

    root = tmp_path / "out"
    command = Path(sys.executable).with_name(argo_python.__name__.replace("_", "-"))

    result = _run("-B", TOOL, "--root", root, "--", command)

    assert result.returncode == 0, result.stderr
    written = [path for path in root.rglob("*") if path.is_file()]
    own = [str(Path(location).relative_to("/")) for location in argo_python.__path__]
    assert written
    assert [path for path in written if any(part in str(path) for part in own)] == []
    assert {path.stat().st_mtime for path in [root, *root.rglob("*")]} == {
        image_bytecode.FIXED_MTIME
    }


@pytest.mark.parametrize(
    ("flags", "args", "message"),
    [
        pytest.param([], ["--root", "{out}", "{service}"], "run with python -B", id="without-B"),
        pytest.param(
            ["-B"], ["--root", "{full}", "{service}"], "is not empty", id="root-not-empty"
        ),
        pytest.param(
            ["-B"],
            ["--root", "{out}", "--", "{out}-no-such-program"],
            "cannot start",
            id="no-such-command",
        ),
        pytest.param(
            ["-B"],
            ["--root", "{out}", "--", "env", "EXIT_AT_START=1", "{python}", "{service}"],
            "ended with status 1 before it listened on 127.0.0.1:",
            id="service-fails-to-start",
        ),
        pytest.param(
            ["-B"],
            ["--root", "{out}", "--", "env", "EXIT_AT_START=0", "{python}", "{service}"],
            "ended with status 0 before it listened on 127.0.0.1:",
            id="command-that-serves-nothing",
        ),
        pytest.param(
            ["-B"],
            ["--root", "{out}", "--", "env", "EXIT_AT_STOP=3", "{python}", "{service}"],
            "ended with status 3 after SIGTERM",
            id="service-fails-to-stop-cleanly",
        ),
        pytest.param(["-B"], ["--root", "{out}"], "COMMAND", id="no-command"),
        pytest.param(
            ["-B", "-X", "pycache_prefix={out}-cache"],
            ["--root", "{out}", "{service}"],
            "PYTHONPYCACHEPREFIX is set",
            id="pycache-prefix",
        ),
    ],
)
def test_bad_usage_exits_2_with_one_clear_message_and_writes_nothing(
    tmp_path: Path, flags: list[str], args: list[str], message: str
) -> None:
    out, full = tmp_path / "out", tmp_path / "full"
    full.mkdir()
    (full / "kept").write_text("")
    service = _service(tmp_path)
    values = {"out": out, "full": full, "service": service, "python": sys.executable}

    result = _run(
        *(flag.format(out=out) for flag in flags),
        TOOL,
        *(arg.format(**values) for arg in args),
    )

    assert (result.returncode, message in result.stderr) == (2, True), result.stderr
    assert (out.exists(), sorted(path.name for path in tmp_path.iterdir())) == (
        False,
        ["full", "service"],
    )
    assert [path.name for path in full.iterdir()] == ["kept"]
