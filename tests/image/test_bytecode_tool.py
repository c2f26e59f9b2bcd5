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
            "lib-dynload/not_really.py": "x = 1\n",
        },
    )
    elsewhere = _tree(tmp_path / "app", {"service.py": "x = 1\n"})

    plan = image_bytecode.plan([*files.values(), *elsewhere.values()], stdlib)

    assert plan.zipped == {"solo.pyc": files["solo.py"]}
    assert plan.in_place == sorted(
        [
            files["site-packages/dependency.py"],
            files["lib-dynload/not_really.py"],
            elsewhere["service.py"],
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
            "zipped_mod.py": "def fail():\n    raise ValueError('from the zipped module')\n",
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


def test_bytecode_in_place_is_trusted_without_the_source_timestamp(tmp_path: Path) -> None:
    source = _tree(tmp_path, {"trusted.py": "VALUE = 'compiled at build time'\n"})["trusted.py"]
    image_bytecode.write_in_place(Path(source.anchor), [source])
    # COPY need not keep timestamps: an edited, re-dated source must not matter.
    source.write_text("VALUE = 'the source file'\n")

    result = _run("-c", "import trusted; print(trusted.VALUE)", cwd=tmp_path)

    assert Path(importlib.util.cache_from_source(str(source))).is_file()
    assert result.stdout == "compiled at build time\n", result.stderr


def test_the_tool_writes_the_stdlib_zip_at_its_sys_path_place_under_root(tmp_path: Path) -> None:
    root = tmp_path / "out"

    result = _run("-B", TOOL, "--root", root, "json")

    archive = image_bytecode._under(root, image_bytecode.stdlib_zip())
    assert result.returncode == 0, result.stderr
    assert "json/__init__.pyc" in zipfile.ZipFile(archive).namelist()
    imported = _run(
        "-I",
        "-c",
        f"import sys, zipimport; sys.path.insert(0, {str(archive)!r}); import json\n"
        "assert isinstance(json.__loader__, zipimport.zipimporter), json.__loader__\n"
        "print(json.dumps({'n': 10}))",
    )
    assert imported.stdout == '{"n": 10}\n', imported.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--root", "{out}", "json"], "run with python -B", id="without-B"),
        pytest.param(["-B", "--root", "{full}", "json"], "is not empty", id="root-not-empty"),
        pytest.param(
            ["-B", "--root", "{out}", "no_such_module_here"],
            "importing no_such_module_here failed",
            id="unknown-module",
        ),
        pytest.param(["-B", "--root", "{out}"], "MODULE", id="no-module"),
    ],
)
def test_bad_usage_exits_2_with_one_clear_message_and_writes_nothing(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    out, full = tmp_path / "out", tmp_path / "full"
    full.mkdir()
    (full / "kept").write_text("")
    interpreter_flags = [arg for arg in argv if arg == "-B"]
    tool_args = [arg.format(out=out, full=full) for arg in argv if arg != "-B"]

    result = _run(*interpreter_flags, TOOL, *tool_args)

    assert (result.returncode, message in result.stderr) == (2, True), result.stderr
    assert not out.exists()
    assert [path.name for path in full.iterdir()] == ["kept"]
