"""Run OpenTofu (or Terraform) for real, offline, on the provider-free part of tofu/.

variables.tf, locals.tf and outputs.tf need no provider, so `init`, `plan` and `apply` work
without a network in a scratch copy: `plan` runs the variables' validation rules, and `apply`
evaluates the outputs plus one extra output that exposes `var.services` (optional attributes
filled with their defaults) and every local, for hcl_render.py to render resources with.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .support import K8S_DIR, TOFU_DIR, load_hcl, tool_env

PROVIDER_FREE_FILES = ("variables.tf", "locals.tf", "outputs.tf")
RESOLVED_OUTPUT = "test_resolved"


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def message(self) -> str:
        """stderr with the box drawing and line wrapping of OpenTofu's diagnostics undone."""
        lines = [line.strip().strip("│╷╵").strip() for line in self.stderr.splitlines()]
        return " ".join(line for line in lines if line)


class Workspace:
    """A scratch copy of tofu/'s provider-free files (and k8s/deployment.yaml, which locals.tf
    reads), in which OpenTofu runs."""

    def __init__(self, binary: str, root: Path) -> None:
        self.binary = binary
        self.dir = root / "tofu"
        self.dir.mkdir(parents=True)
        (root / "k8s").mkdir()
        shutil.copy(K8S_DIR / "deployment.yaml", root / "k8s" / "deployment.yaml")
        for name in PROVIDER_FREE_FILES:
            shutil.copy(TOFU_DIR / name, self.dir / name)
        local_names = [
            name
            for block in load_hcl(TOFU_DIR / "locals.tf")["locals"]
            for name in block
            if not name.startswith("__")
        ]
        locals_object = ", ".join(f"{name} = local.{name}" for name in local_names)
        (self.dir / "zz_test_resolved.tf").write_text(
            f'output "{RESOLVED_OUTPUT}" {{\n'
            f"  value = {{ services = var.services, local = {{ {locals_object} }} }}\n}}\n"
        )
        self.env = tool_env(root)
        self._run("init", "-no-color", "-input=false").check("init")

    def _run(self, *args: str) -> _Checked:
        completed = subprocess.run(
            [self.binary, *args],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return _Checked(Result(completed.returncode, completed.stdout, completed.stderr))

    def write_vars(self, variables: dict[str, Any]) -> Path:
        path = self.dir / "test.tfvars.json"
        path.write_text(json.dumps(variables))
        return path

    def plan(self, var_file: Path) -> Result:
        return self._run("plan", "-no-color", "-input=false", f"-var-file={var_file}").result

    def apply(self, var_file: Path) -> dict[str, Any]:
        """Apply (outputs only, nothing leaves the scratch directory) and return the outputs."""
        self._run(
            "apply", "-no-color", "-input=false", "-auto-approve", f"-var-file={var_file}"
        ).check("apply")
        outputs = json.loads(self._run("output", "-no-color", "-json").check("output").stdout)
        return {name: output["value"] for name, output in outputs.items()}


@dataclass(frozen=True)
class _Checked:
    result: Result

    def check(self, step: str) -> Result:
        assert self.result.returncode == 0, f"tofu {step} failed: {self.result.message}"
        return self.result
