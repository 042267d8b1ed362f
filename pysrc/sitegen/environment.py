"""Set up the project's virtual environment before anything else runs.

This module runs on whatever `python3` the reader has, so it uses the standard
library only and stays compatible with old Python 3 versions. Anything that can
go wrong ends in one sentence that says what to install, never a traceback.
"""
import hashlib
import os
import shutil
import subprocess
import sys

MIN_PYTHON = (3, 12)
STAMP_NAME = ".requirements-sha256"


def fail(sentence):
    sys.stderr.write(sentence + "\n")
    raise SystemExit(2)


def venv_python(venv):
    return os.path.join(venv, "bin", "python")


def lock_digest(root):
    with open(os.path.join(root, "requirements.lock"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def python_version(executable):
    """Return (major, minor) of an interpreter, or None if it does not run."""
    try:
        out = subprocess.run(
            [executable, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True, text=True, timeout=30,
        ).stdout.split()
        return (int(out[0]), int(out[1]))
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None


def find_python():
    """The first Python >= 3.12: this one, or python3.12/3.13/3.14 on the PATH."""
    if sys.version_info[:2] >= MIN_PYTHON:
        return sys.executable
    for name in ("python3.12", "python3.13", "python3.14", "python3"):
        path = shutil.which(name)
        version = path and python_version(path)
        if version and version >= MIN_PYTHON:
            return path
    return None


def inside_venv(venv):
    return os.path.realpath(sys.prefix) == os.path.realpath(venv)


def venv_is_current(root, venv):
    stamp = os.path.join(venv, STAMP_NAME)
    if not os.path.exists(stamp):
        return False
    with open(stamp) as f:
        return f.read().strip() == lock_digest(root)


def create_venv(root, venv):
    python = find_python()
    if python is None:
        fail("This project needs Python 3.12 or newer: install it (for example `apt-get install python3.12` "
             "or `pyenv install 3.12`) and run the command again.")
    if not os.path.exists(venv_python(venv)):
        print("Creating the virtual environment in .venv/ ...", flush=True)
        done = subprocess.run([python, "-m", "venv", venv])
        if done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            fail("Python could not create a virtual environment: install the venv module "
                 "(for example `apt-get install python3.12-venv`) and run the command again.")
    print("Installing the pinned packages from requirements.lock ...", flush=True)
    done = subprocess.run([venv_python(venv), "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", "-r", os.path.join(root, "requirements.lock")])
    if done.returncode != 0:
        fail("The pinned packages could not be installed (pip's message is above): "
             "check the connection to PyPI and run the command again.")
    with open(os.path.join(venv, STAMP_NAME), "w") as f:
        f.write(lock_digest(root))


def ensure_environment(root, args):
    """Make sure .venv holds the pinned packages, then continue inside it."""
    venv = os.path.join(str(root), ".venv")
    if inside_venv(venv) and venv_is_current(root, venv):
        return
    if not venv_is_current(root, venv):
        create_venv(str(root), venv)
    script = os.path.join(str(root), "build.py")
    os.execv(venv_python(venv), [venv_python(venv), script] + list(args))
