"""The package as an operator installs it: the wheel, pinned, in a fresh virtual
environment, used from an empty folder (the bundled dialogs), then `vie-coach init`.
And the Docker image, where a Docker engine runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.timeout(600)


def run(*args: str | Path, cwd: Path, stdin: str = "", timeout: float = 300, **env: str) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, input=stdin, capture_output=True, text=True,
        timeout=timeout, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), **env},
    )  # fmt: skip
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the built wheel installed as the README says: its bin folder."""
    work = tmp_path_factory.mktemp("install")
    # built from a clean copy of the sources: a build/ folder left in the tree would ship
    # files deleted since
    source = work / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".lock-venv", "build", "dist", "*.egg-info", "__pycache__",
        ".*_cache", ".hypothesis", "*.db", "*.db-*", "*.db.lock"))  # fmt: skip
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    run(*pip, "wheel", "--no-deps", "-w", work / "dist", source, cwd=work)
    (wheel,) = (work / "dist").glob("vie_coach-*.whl")
    venv.create(work / "venv", with_pip=True)
    bin_dir = work / "venv" / "bin"
    run(bin_dir / "python", "-m", "pip", "--disable-pip-version-check", "-q", "install",
        "-c", ROOT / "constraints.txt", wheel, cwd=work)  # fmt: skip
    return bin_dir


def test_the_wheel_chats_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    said = run(installed / "vie-coach", "chat", "--user", "Monique", cwd=empty,
               stdin="bonjour\n/quit\n")  # fmt: skip
    assert "Bonjour Monique" in said and "Traceback" not in said
    assert (empty / "vie-coach.db").is_file()  # the embedded SQLite file, here
    checked = run(installed / "vie-coach", "check", cwd=empty)
    assert "(bundled with VIE Coach 0.1.0)" in checked and "ok:" in checked
    # the operator's tools work on what the wheel ships: its scripts and its graph
    tested = run(installed / "vie-coach", "test", cwd=empty)
    assert re.search(r"\n(\d+) scenarios: \1 passed", tested), tested[-500:]
    drawn = run(installed / "vie-coach", "graph", "--flow", "informer", "--format", "mermaid",
                cwd=empty)  # fmt: skip
    assert drawn.startswith("flowchart") or "\nflowchart" in drawn, drawn[:300]


def test_the_wheel_chats_on_postgresql(installed: Path, tmp_path: Path, pg_url: str) -> None:
    """The PostgreSQL schema ships in the wheel: a store is created on an empty database."""
    said = run(installed / "vie-coach", "chat", "--user", "Monique", cwd=tmp_path,
               stdin="bonjour\n/quit\n", VIE_STORE_URL=pg_url)  # fmt: skip
    assert "Bonjour Monique" in said and "Traceback" not in said
    assert not list(tmp_path.glob("*.db")), "nothing written to a SQLite file"


def test_init_copies_dialogs_and_a_commented_config(installed: Path, tmp_path: Path) -> None:
    said = run(installed / "vie-coach", "init", "mybot", cwd=tmp_path)
    bot = tmp_path / "mybot"
    (tmp_path / "elsewhere").mkdir()
    assert "config.toml" in said
    assert (bot / "dialogs" / "welcome.yaml").read_text(encoding="utf-8") == (
        ROOT / "dialogs" / "welcome.yaml"
    ).read_text(encoding="utf-8")
    config = (bot / "config.toml").read_text(encoding="utf-8")
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert config == example.replace('\ndialogs = ""\n', '\ndialogs = "dialogs"\n')
    checked = run(installed / "vie-coach", "check", "--config", bot / "config.toml",
                  cwd=tmp_path / "elsewhere")  # fmt: skip
    assert "configured (bot.dialogs)" in checked and str(bot / "dialogs") in checked
    refused = subprocess.run(
        [installed / "vie-coach", "init", "mybot"], cwd=tmp_path, capture_output=True, text=True
    )
    assert refused.returncode == 2 and "nothing was changed" in refused.stderr


def test_license_matches_the_package_metadata() -> None:
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert declared["project"]["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Permission is hereby granted" in text


def test_the_docker_image_builds_and_runs(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker command on this machine")
    engine = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=30)
    if engine.returncode != 0:
        pytest.skip("docker is installed but no Docker engine runs here")
    tag = "vie-coach-test:latest"
    run(docker, "build", "-t", tag, ROOT, cwd=tmp_path, timeout=900)
    said = run(docker, "run", "--rm", "-i", tag, "vie-coach", "chat", cwd=tmp_path,
               stdin="/quit\n")  # fmt: skip
    assert "Bonjour" in said
