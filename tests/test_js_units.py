"""The browser glue's own unit tests (tests/js/*.test.js, Node's test runner), run with the rest,
and the Python end of the message protocol checked against the table the glue follows."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import widgetkit

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "site_templates" / "static" / "protocol.js"


def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail("The browser glue's tests need Node.js (the build needs it too): install it and run them again.")
    return path


def test_browser_glue_unit_tests_pass_in_node():
    # The files by name: a folder argument means a folder in Node 20, a glob pattern from 21 on.
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "js").glob("*.test.js"))
    assert files, "tests/js holds no *.test.js file"
    done = subprocess.run([node(), "--test", *files], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# fail 0" in done.stdout and "# pass 0\n" not in done.stdout


def protocol_fields() -> dict[str, set[str]]:
    """{message type: its field names, type included} for the messages Python's worker sends."""
    script = (f"const P = require({json.dumps(str(PROTOCOL))});"
              "console.log(JSON.stringify(P.MESSAGES));")
    done = subprocess.run([node(), "-e", script], capture_output=True, text=True, timeout=60, check=True)
    return {name: {"type", *(f.removesuffix("?") for f in spec["fields"])}
            for name, spec in json.loads(done.stdout).items() if spec["from"] == "worker"}


@pytest.mark.parametrize("request_, expected", [
    ({"type": "render", "id": "0:1", "widget": "temperature", "state": {"temperature": "0.5"}}, "view"),
    ({"type": "render", "id": "0:2", "widget": "temperature", "state": {"temperature": "abc"}}, "invalid"),
    ({"type": "render", "id": "0:3", "widget": "temperature", "state": "abc"}, "error"),
])
def test_python_replies_are_messages_of_the_protocol(request_, expected):
    """widgets.handle's replies go to the page as they are: each must be the message protocol.js lists."""
    reply = json.loads(widgetkit.handle(json.dumps(request_)))
    assert reply["type"] == expected and reply["id"] == request_["id"]
    assert set(reply) == protocol_fields()[expected]
