"""The `argo-gitops` command line: `set-image` edits a manifest, `publish` also commits and pushes
it, `fork` renames the deploy identity of a clone. Results go to stdout, progress and the one-line
error to stderr; exit codes are in EXIT_CODES.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from argo_gitops import fork
from argo_gitops.deployimage import check_deployable
from argo_gitops.errors import GitError, GitOpsError, InputError, SupersededError
from argo_gitops.identity import NODE_PORT_RANGE, load, with_changes
from argo_gitops.imageref import ImageRef, parse_image_ref
from argo_gitops.manifest import read_manifest, set_image, write_manifest
from argo_gitops.publish import Outcome, Target, publish

PROG = "argo-gitops"
EXIT_CODES = {
    0: "done: the manifest has the image (updated, unchanged or published)",
    InputError.exit_code: "bad input: arguments, image reference (malformed, or one the fork's "
    "deploy check rejects), manifest or fork setting; nothing changed",
    GitError.exit_code: "git failed (not a repository, dirty manifest, push refused or still "
    "rejected after the retries, conflict outside the manifest)",
    SupersededError.exit_code: "not pushed: the branch already deploys a build that is not older",
}
FORK_EXIT_CODES = {
    0: "done: fork.toml and the files that use it have the identity (updated or unchanged)",
    InputError.exit_code: "bad input: an argument, fork.toml or a file to rewrite; nothing changed",
}


def _legend(codes: dict[int, str]) -> str:
    return "exit codes:\n" + "\n".join(f"  {code}  {text}" for code, text in codes.items())


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr like every other failure."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{PROG}: {message} (see {self.prog} --help)\n")
        raise SystemExit(InputError.exit_code)


def _retries(text: str) -> int:
    if not text.isdigit() or int(text) > 100:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 100, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    epilog = _legend(EXIT_CODES)
    parser = _Parser(
        prog=PROG,
        description="Pin a container image in a Kubernetes Deployment manifest, the GitOps way.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    set_image_cmd = commands.add_parser(
        "set-image",
        help="set a container's image in MANIFEST; prints updated or unchanged",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    publish_cmd = commands.add_parser(
        "publish",
        help="set-image, commit as github-actions[bot] and push (rebasing when the branch moved)",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for command in (set_image_cmd, publish_cmd):
        command.add_argument("manifest", metavar="MANIFEST", type=Path, help="a Deployment file")
        command.add_argument(
            "image", metavar="IMAGE_REF", help="e.g. ghcr.io/owner/app:sha-1a2b3c4@sha256:..."
        )
        command.add_argument(
            "--container", metavar="NAME", help="container to change (default: the only one)"
        )
    publish_cmd.add_argument("--remote", default="origin", help="git remote (default: origin)")
    publish_cmd.add_argument("--branch", default="main", help="branch to push (default: main)")
    publish_cmd.add_argument(
        "--retries",
        type=_retries,
        default=3,
        metavar="N",
        help="fetch-rebase-push rounds after a rejected push (default: 3)",
    )
    fork_cmd = commands.add_parser(
        "fork",
        help="set this clone's deploy identity (fork.toml) and rewrite every file that uses it",
        epilog=_legend(FORK_EXIT_CODES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Required, but checked in _fork: argparse would name --owner where `make fork` users set OWNER.
    fork_cmd.add_argument("--owner", help="GitHub user or organisation (required)")
    fork_cmd.add_argument("--name", help="service name, a DNS label (required)")
    fork_cmd.add_argument(
        "--repo",
        help="GitHub repository name (default: the name on the first fork, then the current one)",
    )
    low, high = NODE_PORT_RANGE
    fork_cmd.add_argument("--node-port", help=f"NodePort, {low}-{high} (default: the current one)")
    fork_cmd.add_argument(
        "--hostname", help="public DNS name, or '' for none (default: the current one)"
    )
    fork_cmd.add_argument(
        "--root", type=Path, default=Path(), help="the repository (default: the current directory)"
    )
    return parser


def _fork(args: argparse.Namespace) -> str:
    missing = [variable for variable in ("owner", "name") if getattr(args, variable) is None]
    if missing:
        names = " and ".join(variable.upper() for variable in missing)
        raise InputError(
            f"{names} {'is' if len(missing) == 1 else 'are'} required: "
            "make fork OWNER=<user or organisation> NAME=<service> (or --owner, --name)"
        )
    current = load(args.root)
    changes: dict[str, str | int] = {"owner": args.owner, "name": args.name}
    if args.repo is not None:
        changes["repository"] = args.repo
    elif not current.forked:
        # The template's repository name is not the fork's; once forked, the repository is
        # where the fork lives and the image comes from, and only REPO= moves it.
        changes["repository"] = args.name
    if args.node_port is not None:
        changes["node_port"] = _node_port(args.node_port)
    if args.hostname is not None:
        changes["hostname"] = args.hostname
    wanted = with_changes(current, **changes)
    planned = fork.plan(args.root, wanted)
    fork.apply(planned)
    if not planned:
        return "unchanged: every file already has this identity"
    return "\n".join(f"updated {change.path.relative_to(args.root)}" for change in planned)


def _node_port(text: str) -> int:
    low, high = NODE_PORT_RANGE
    if not (text.isascii() and text.isdigit() and len(text) <= 5):
        raise InputError(
            f"NODE_PORT={text!r} is invalid: expected a whole number from {low} to {high}"
        )
    return int(text)


def _image(args: argparse.Namespace) -> ImageRef:
    """The IMAGE_REF argument, refused unless the manifest's fork could deploy it."""
    image = parse_image_ref(args.image)
    check_deployable(image, args.manifest)
    return image


def _set_image(args: argparse.Namespace) -> str:
    image = _image(args)
    text = read_manifest(args.manifest)
    updated = set_image(text, image, args.container, str(args.manifest))
    if updated == text:
        return "unchanged"
    write_manifest(args.manifest, updated)
    return "updated"


def _publish(args: argparse.Namespace) -> str:
    image = _image(args)
    target = Target(remote=args.remote, branch=args.branch, retries=args.retries)
    result = publish(args.manifest, image, args.container, target, _progress)
    if result.outcome is Outcome.UNCHANGED:
        return "unchanged"
    return f"published {image.label} to {target.remote}/{target.branch} as {result.commit}"


def _progress(message: str) -> None:
    sys.stderr.write(f"{PROG}: {message}\n")


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    run = {"set-image": _set_image, "publish": _publish, "fork": _fork}[args.command]
    try:
        print(run(args))
    except GitOpsError as error:
        # One line, whatever a library put into the message.
        message = "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
        sys.stderr.write(f"{PROG}: {message}\n")
        raise SystemExit(error.exit_code) from None
