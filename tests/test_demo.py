"""`autodx demo`, the README's main job, must run and agree everywhere."""

import io
import subprocess
import sys

from autodx.cli import demo


def test_demo_values_all_agree():
    out = io.StringIO()
    assert demo(out) == 0
    text = out.getvalue()
    assert "all values agree" in text and "DISAGREE" not in text and "BAD" not in text
    assert "[[4.0, 2.0], [1.0, -1.0]]" in text and "[[2.0, 0.0], [0.0, 2.0]]" in text
    assert sum(line.startswith("  ok ") for line in text.splitlines()) == 16


def test_autodx_command_runs():
    result = subprocess.run([sys.executable, "-m", "autodx", "demo"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "all values agree" in result.stdout
