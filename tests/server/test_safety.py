"""Safety over the wire (docs/PROTOCOL.md rules 23, 29-32) and the crisis file at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TIMEOUT = 30


def _start(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "REDIS_URL", "PORT"))}
    env.update({"HEARTH_DATA_DIR": str(tmp_path / "data"), "HEARTH_IP_LIMITS": "off", **extra})
    return subprocess.run(
        [sys.executable, "-m", "server", "--port", "0"], env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (None, "cannot be read"),
        ("[phrases\nen = 1", "not valid TOML"),
        ('[phrases]\nen = ["want to die"]\n', "at least one [[resources]] entry is required"),
        ('[phrases]\nen = ["x"]\n[[resources]]\nname = "Line"\n', "needs at least a phone, text or url"),
    ],
)
def test_a_bad_crisis_file_is_one_readable_line_and_exit_2(tmp_path: Path, body: str | None, needle: str) -> None:
    path = tmp_path / "crisis.toml"
    if body is not None:
        path.write_text(body, encoding="utf-8")
    result = _start(tmp_path, HEARTH_CRISIS_FILE=str(path))
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("hearth:")]
    assert len(lines) == 1, result.stderr
    assert "HEARTH_CRISIS_FILE" in lines[0] and needle in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_quick_exit_url_is_refused(tmp_path: Path) -> None:
    result = _start(tmp_path, HEARTH_QUICK_EXIT_URL="javascript:alert(1)")
    assert result.returncode == 2
    assert "HEARTH_QUICK_EXIT_URL" in result.stderr and "Traceback" not in result.stderr
