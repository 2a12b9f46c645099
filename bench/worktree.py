"""Another commit of this repository, checked out beside it for as long as a run needs it.

:func:`checked_out` resolves a git rev (``HEAD~1``, a branch, a tag, a hash) to its commit,
checks it out with ``git worktree add --detach`` into a new temporary directory, yields it, and
always removes it again (``git worktree remove --force``, then the directory itself and
``git worktree prune``): after the run, on errors and on Ctrl-C. Nothing of the working tree the
command runs from is touched. The command lines are built by small pure functions, so what is
run can be checked without git.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class RefError(ValueError):
    """The rev names no commit of the repository (the message says what git said)."""


@dataclass(frozen=True, slots=True)
class Checkout:
    """A tree of the repository at one commit: the rev it was asked as, the commit, where."""

    ref: str
    commit: str
    path: Path

    @property
    def short(self) -> str:
        return self.commit[:7]


def git(repo: Path, *args: str) -> list[str]:
    """``git -C repo args...``."""
    return ["git", "-C", str(repo), *args]


def resolve_command(repo: Path, ref: str) -> list[str]:
    # ``--end-of-options`` keeps a rev that starts with ``-`` from being read as an option.
    return git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")


def add_command(repo: Path, path: Path, commit: str) -> list[str]:
    return git(repo, "worktree", "add", "--detach", "--quiet", str(path), commit)


def remove_command(repo: Path, path: Path) -> list[str]:
    # --force: the run leaves bytecode caches and such in it.
    return git(repo, "worktree", "remove", "--force", str(path))


def prune_command(repo: Path) -> list[str]:
    return git(repo, "worktree", "prune")


def run_git(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def resolve(repo: Path, ref: str) -> str:
    """The full commit hash ``ref`` names in ``repo``; :class:`RefError` when none."""
    done = run_git(resolve_command(repo, ref))
    commit = done.stdout.strip()
    if done.returncode != 0 or not commit:
        why = done.stderr.strip() or "no such commit"
        raise RefError(f"{ref!r} is not a commit of {repo.name}: {why}")
    return commit


def head_state(repo: Path) -> tuple[str, bool]:
    """The working tree's HEAD commit, and whether it has changes (tracked or untracked, what
    ``git status`` shows: ignored files such as results are not changes)."""
    commit = resolve(repo, "HEAD")
    status = run_git(git(repo, "status", "--porcelain"))
    return commit, bool(status.stdout.strip())


@contextlib.contextmanager
def checked_out(repo: Path, ref: str) -> Iterator[Checkout]:
    """``ref`` of ``repo`` checked out in a temporary worktree, removed when the block ends."""
    commit = resolve(repo, ref)
    parent = Path(tempfile.mkdtemp(prefix="fmgate-ab-"))
    path = parent / f"tree-{commit[:12]}"
    try:
        added = run_git(add_command(repo, path, commit))
        if added.returncode != 0:
            raise RuntimeError(f"git worktree add failed: {added.stderr.strip()}")
        yield Checkout(ref=ref, commit=commit, path=path)
    finally:
        removed = run_git(remove_command(repo, path)) if path.exists() else None
        shutil.rmtree(parent, ignore_errors=True)
        if removed is None or removed.returncode != 0:
            run_git(prune_command(repo))  # forget a worktree whose directory is gone
