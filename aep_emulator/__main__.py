"""`python -m aep_emulator [options]`: the emulator's own entry point (see server.main)."""

from aep_emulator.server import main

# Guarded: validation worker processes (spawn) import this module again under another name.
if __name__ == "__main__":
    raise SystemExit(main())
