"""The article's widgets: pure view functions from parameters to SVG/HTML.

`handle` is the only entry point the browser's worker calls: it takes one JSON
request of the page's protocol and returns one JSON reply. It can only run the
view functions registered here, never Python source sent by the page.
"""
from __future__ import annotations

import importlib
import json
import pkgutil

from widgetkit import REGISTRY, InputError, View, Widget

__all__ = ["REGISTRY", "InputError", "View", "Widget", "handle", "load", "render"]

# Which module registers each widget ({widget name: module name}). The build writes it into the
# browser's wheel (sitegen.site.widget_index), so that the browser imports only the modules of
# the widgets it draws, each when first asked: the first figure on a page goes live without
# waiting for the others' imports (nor the language model's). Without it (the build, the tests)
# every module of this package is imported now, as an author adds a widget by adding a file,
# here or in the folder the site's config names (copied in by the build).
INDEX_FILE = "index.json"


def _read_index() -> dict[str, str] | None:
    try:
        return json.loads(pkgutil.get_data(__name__, INDEX_FILE))
    except OSError:   # none beside this file (or in its zip)
        return None


def load_all() -> None:
    for name in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        importlib.import_module(f"{__name__}.{name}")


INDEX = _read_index()
if INDEX is None:
    load_all()


def load(name: str) -> Widget:
    """The widget `name`, importing its module first if need be (raises InputError if none)."""
    if name not in REGISTRY:
        if INDEX is not None and name in INDEX:
            importlib.import_module(INDEX[name])
        else:
            load_all()
    if name not in REGISTRY:
        raise InputError("widget", f"there is no widget {name!r}; the widgets are "
                                   f"{', '.join(sorted(REGISTRY))}.")
    return REGISTRY[name]


def render(name: str, raw_state: dict) -> View:
    """Check the values and draw widget `name` (raises InputError for a bad value)."""
    return load(name).render(raw_state)


def reply_for(request: dict) -> dict:
    reply = {"id": request.get("id")}
    if request.get("type") != "render" or not isinstance(request.get("state"), dict):
        return {**reply, "type": "error", "message": "The worker only draws widgets."}
    try:
        view = render(str(request.get("widget")), request["state"])
    except InputError as problem:
        return {**reply, "type": "invalid", "param": problem.param, "message": problem.message}
    except ValueError as problem:  # the sampling module's own checks
        return {**reply, "type": "invalid", "param": "", "message": str(problem)}
    except Exception as problem:  # a bug in a view: say so briefly; the page keeps its last view
        return {**reply, "type": "error",
                "message": f"This figure could not be redrawn ({type(problem).__name__}: {problem}); "
                           "it shows the last good view."}
    return {**reply, "type": "view", "html": view.html, "summary": view.summary, "state": dict(view.state)}


def handle(message: str) -> str:
    """One JSON request in, one JSON reply out (see site_templates/static/protocol.md)."""
    try:
        request = json.loads(message)
    except json.JSONDecodeError:
        return json.dumps({"id": None, "type": "error", "message": "The request was not JSON."})
    if not isinstance(request, dict):
        return json.dumps({"id": None, "type": "error", "message": "The request was not an object."})
    return json.dumps(reply_for(request))
