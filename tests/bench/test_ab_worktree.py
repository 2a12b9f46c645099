"""``bench.worktree``: the git commands that check another commit out beside this tree, and
that the checkout is removed afterwards (errors and interrupts included), against a throwaway
repository; ``bench.servers.source_env``: what makes a server run that tree's fmgate."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from bench.servers import source_env
from bench.worktree import (
    RefError,
    add_command,
    checked_out,
    remove_command,
    resolve,
    resolve_command,
)


def test_git_commands_for_the_other_tree() -> None:
    repo, tree = Path("/repo"), Path("/tmp/fmgate-ab-x/tree")
    assert resolve_command(repo, "HEAD~1") == [
        "git",
        "-C",
        "/repo",
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        "HEAD~1^{commit}",
    ]
    assert add_command(repo, tree, "c0ffee") == [
        "git",
        "-C",
        "/repo",
        "worktree",
        "add",
        "--detach",
        "--quiet",
        "/tmp/fmgate-ab-x/tree",
        "c0ffee",
    ]
    assert remove_command(repo, tree) == [
        "git",
        "-C",
        "/repo",
        "worktree",
        "remove",
        "--force",
        "/tmp/fmgate-ab-x/tree",
    ]


def test_a_source_tree_is_the_servers_only_pythonpath() -> None:
    paths = source_env(Path("/t"))["PYTHONPATH"].split(os.pathsep)
    assert paths == ["/t/src", "/t/emulator/src"]


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="no git")


def git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    done = subprocess.run(
        ["git", "-C", str(repo), *identity, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def two_commit_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet")
    for text in ("old", "new"):
        (repo / "file.txt").write_text(text)
        git(repo, "add", "file.txt")
        git(repo, "commit", "--quiet", "-m", text)
    return repo


def worktrees(repo: Path) -> list[str]:
    listed = git(repo, "worktree", "list", "--porcelain").splitlines()
    return [line for line in listed if line.startswith("worktree ")]


@needs_git
def test_a_ref_is_checked_out_apart_and_removed_afterwards(two_commit_repo: Path) -> None:
    repo = two_commit_repo
    with checked_out(repo, "HEAD~1") as checkout:
        assert checkout.commit == resolve(repo, "HEAD~1")
        assert (checkout.path / "file.txt").read_text() == "old"
        assert len(worktrees(repo)) == 2
        (checkout.path / "made-by-the-run.pyc").write_text("x")  # removed all the same
    assert not checkout.path.exists()
    assert not checkout.path.parent.exists()
    assert len(worktrees(repo)) == 1
    assert (repo / "file.txt").read_text() == "new"  # the working tree untouched


@needs_git
def test_the_worktree_goes_on_errors_and_interrupts(two_commit_repo: Path) -> None:
    repo = two_commit_repo
    for raised in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(raised)), checked_out(repo, "HEAD") as checkout:
            raise raised
        assert not checkout.path.parent.exists()
        assert len(worktrees(repo)) == 1


@needs_git
def test_a_ref_that_names_no_commit_is_refused(two_commit_repo: Path) -> None:
    with (
        pytest.raises(RefError, match="no-such-branch"),
        checked_out(two_commit_repo, "no-such-branch"),
    ):
        pass
    assert len(worktrees(two_commit_repo)) == 1
