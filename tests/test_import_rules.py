"""The import rules of the layout: mappers and the emulator share only `schemas`, and the runtime
loads the emulator only inside the `emulator` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.interpreter import ROOT, fresh_python


def test_import_linter_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


def test_cli_does_not_import_the_emulator_eagerly() -> None:
    code = (
        "import sys, consumer.cli, consumer.config.settings\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] == 'aep_emulator']\n"
        "print(','.join(loaded))\n"
    )
    assert fresh_python(code) == ""


def test_settings_load_without_the_mapper() -> None:
    # Every command builds settings first; the mapper (pycountry, the XDM validator) is loaded
    # only by the commands that map.
    code = (
        "import sys, consumer.config.settings\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] == 'mappers'))\n"
    )
    assert fresh_python(code) == ""
