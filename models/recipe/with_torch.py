"""Imported first by the recipe's entry scripts: torch comes from Debian's
python3-torch, so a python3 on PATH without it (pyenv) re-runs the script
under /usr/bin/python3."""
import os
import sys

try:
    import torch  # noqa: F401
except ImportError:
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise
