"""The worker's one entry point: JSON requests of the protocol in, JSON replies out.
It draws registered widgets and nothing else."""
from __future__ import annotations

import json

import widgetkit
from widgets.temperature import temperature_probs
from widgets.examples import EXAMPLES


def ask(request) -> dict:
    return json.loads(widgetkit.handle(request if isinstance(request, str) else json.dumps(request)))


def test_handle_render_returns_the_view_of_the_state():
    reply = ask({"type": "render", "id": 7, "widget": "temperature",
                 "state": {"example": "flat", "temperature": "0.5"}})
    assert reply["type"] == "view" and reply["id"] == 7
    first = repr(float(temperature_probs(EXAMPLES["flat"].logits, 0.5)[0]))
    assert f'data-p="{first}"' in reply["html"] and reply["summary"].startswith("At temperature 0.5,")


def test_handle_bad_value_is_invalid_naming_the_parameter():
    reply = ask({"type": "render", "id": 1, "widget": "temperature", "state": {"temperature": "abc"}})
    assert reply == {"id": 1, "type": "invalid", "param": "temperature",
                     "message": "Temperature takes a number from 0 to 3; got 'abc'."}


def test_handle_refuses_anything_but_render():
    for request in ({"type": "exec", "id": 2, "code": "import os"},
                    {"type": "render", "id": 3, "widget": "temperature", "state": "x"}):
        assert ask(request)["type"] == "error"


def test_handle_refuses_unknown_widgets_and_parameters():
    assert ask({"type": "render", "id": 4, "widget": "os.system", "state": {}})["type"] == "invalid"
    reply = ask({"type": "render", "id": 5, "widget": "temperature", "state": {"__class__": "1"}})
    assert reply["type"] == "invalid" and reply["param"] == "__class__"


def test_handle_survives_malformed_json():
    assert ask("{not json")["type"] == "error"
    assert ask("[1, 2]")["type"] == "error"
