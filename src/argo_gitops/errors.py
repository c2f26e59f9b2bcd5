"""The failures of argo-gitops, each carrying the exit code the CLI documents for it."""

from __future__ import annotations


class GitOpsError(Exception):
    """A failure reported as one line on stderr; `exit_code` is what the process returns."""

    exit_code = 1


class InputError(GitOpsError):
    """Bad input (arguments, image reference, manifest): nothing was changed."""

    exit_code = 2


class GitError(GitOpsError):
    """A git operation failed or the repository is not in a state to publish from."""

    exit_code = 3


class SupersededError(GitOpsError):
    """The branch already deploys a build that is not older than ours: nothing was pushed."""

    exit_code = 4
