"""The widget framework every site ships: parameters, views, the registry, the protocol.

A site's widget modules register their widgets here (`widget`, from `widgetkit.base`).
`handle` is the only entry point the browser's worker calls: it takes one JSON request of
the page's protocol and returns one JSON reply. It can only run the view functions
registered here, never Python source sent by the page.
"""
from __future__ import annotations

import importlib
import json
import pkgutil

from .base import (REGISTRY, Button, Choice, InputError, Number, Numbers, Param, Text, View, Widget,
                   WidgetError, widget)

__all__ = ["REGISTRY", "Button", "Choice", "InputError", "Number", "Numbers", "Param", "Text", "View",
           "Widget", "WidgetError", "handle", "import_widgets", "load", "render", "widget"]

# Which module registers each widget ({widget name: module name}). The build writes it into the
# browser's wheel beside this file (sitegen.site), so that the browser imports only the modules
# of the widgets it draws, each when first asked: the first figure on a page goes live without
# waiting for the others' imports. Without it (the build, the tests), whoever draws imports the
# site's widget modules first (`import_widgets`).
INDEX_FILE = "index.json"


def _read_index() -> dict[str, str] | None:
    try:
        return json.loads(pkgutil.get_data(__name__, INDEX_FILE))
    except OSError:   # none beside this file (or in its zip)
        return None


INDEX = _read_index()


def import_widgets(names: list[str], skip: frozenset[str] = frozenset()) -> list[str]:
    """Import the modules named (a package: each of its modules, except those in `skip`),
    which register their widgets; return the names of the modules imported, in order."""
    done = []
    for name in names:
        module = importlib.import_module(name)
        done.append(name)
        if hasattr(module, "__path__"):
            for sub in sorted(m.name for m in pkgutil.iter_modules(module.__path__)):
                full = f"{name}.{sub}"
                if full not in skip:
                    importlib.import_module(full)
                    done.append(full)
    return done


def load(name: str) -> Widget:
    """The widget `name`, importing its module first if need be (raises InputError if none)."""
    if name not in REGISTRY and INDEX is not None and name in INDEX:
        importlib.import_module(INDEX[name])
    if name not in REGISTRY:
        raise InputError("widget", f"there is no widget {name!r}; the widgets are "
                                   f"{', '.join(sorted(INDEX or REGISTRY))}.")
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


# Integers longer than this stay text for the parameters' own checks to refuse: Python will not
# read more than 4,300 digits (ValueError) and float() overflows past 309.
MAX_INT_DIGITS = 400


def _number_or_text(digits: str) -> int | str:
    return int(digits) if len(digits) <= MAX_INT_DIGITS else digits


def handle(message: str) -> str:
    """One JSON request in, one JSON reply out (the messages: site_templates/static/protocol.js).
    It always replies: "invalid" for a value it cannot take, "error" for what is not a request."""
    try:
        request = json.loads(message, parse_int=_number_or_text)
    except RecursionError:
        return json.dumps({"id": None, "type": "invalid", "param": "",
                           "message": "The request is nested too deeply."})
    except ValueError:   # JSONDecodeError among them
        return json.dumps({"id": None, "type": "error", "message": "The request was not JSON."})
    if not isinstance(request, dict):
        return json.dumps({"id": None, "type": "error", "message": "The request was not an object."})
    try:
        return json.dumps(reply_for(request))
    except Exception as problem:   # never a traceback instead of a reply
        return json.dumps({"id": None, "type": "error", "message": f"No reply could be made ({type(problem).__name__})."})
