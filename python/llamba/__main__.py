"""``python -m llamba ARGS``: the ``llamba`` command-line tool installed inside the package."""

import os
import sys
from pathlib import Path


def cli_path() -> str:
    """The path of the packaged ``llamba`` executable."""
    return str(Path(__file__).resolve().parent / "bin" / "llamba")


def main() -> None:
    exe = cli_path()
    if not os.access(exe, os.X_OK):
        sys.exit(f"llamba: the command-line tool is missing from the package ({exe}); reinstall with `pip install .`")
    os.execv(exe, [exe, *sys.argv[1:]])


if __name__ == "__main__":
    main()
