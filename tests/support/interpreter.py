"""Running a snippet in a fresh interpreter, to see what importing something loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def fresh_python(code: str) -> str:
    """What `code` prints in a new interpreter started at the repository root (stripped); a
    failing snippet fails the test."""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()
