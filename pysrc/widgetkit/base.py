"""What a widget is: declared parameters, a pure view function, and the registry.

An author writes one function that takes the widget's parameters and returns a
`View`, and declares each parameter once. The declaration serves three places:
the article's directive (checked at build time), the controls on the page
(rendered by the build), and the values the browser sends back (checked here,
in the worker, before the view runs).

    @widget("temperature", "Temperature", params=[
        Number("temperature", "Temperature", default=1.0, min=0, max=3, step=0.05, control="range"),
    ])
    def temperature_view(temperature: float) -> View: ...
"""
from __future__ import annotations

import math
from html import escape
from types import MappingProxyType
from typing import Any, Callable, Mapping, NamedTuple

# These are plain classes and named tuples, not dataclasses: in the browser, making a dataclass
# costs 10-20 ms (it compiles its generated methods), and start-up makes a dozen of them.

CONTROLS = ("range", "number", "radio", "button", "text", "edit", "hidden", "none")


class InputError(ValueError):
    """A value the reader or author can fix; `param` names the parameter it concerns."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param
        self.message = message


class WidgetError(ValueError):
    """A mistake in a widget's declaration (found when its module is imported)."""


class Param:
    """One parameter of a widget and how it is shown (set once, never changed).

    control: "range" / "number" / "radio" / "text" for a control the reader uses,
    "edit" for a list of numbers the reader edits in the view itself (Numbers),
    "button" for an action (its value is sent only when pressed), "hidden" for
    state the view hands back (a draw counter), "none" for a setting fixed by
    the article's directive.
    """

    __slots__ = ("name", "label", "default", "control", "help")

    def __init__(self, name: str, label: str, default: Any, control: str = "none", help: str = ""):
        self.name = name
        self.label = label
        self.default = default
        self.control = control
        self.help = help

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def parse(self, raw: Any) -> Any:
        return raw

    def accepted(self) -> str:
        return "any value"


class Number(Param):
    __slots__ = ("min", "max", "step", "integer", "optional")

    def __init__(self, name: str, label: str, default: Any, control: str = "none", help: str = "", *,
                 min: float = -math.inf, max: float = math.inf, step: float | None = None,
                 integer: bool = False, optional: bool = False):
        super().__init__(name, label, default, control, help)
        self.min = min
        self.max = max
        self.step = step
        self.integer = integer
        self.optional = optional  # an empty value means "off" (None)

    def accepted(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        span = f" from {fmt_bound(self.min)} to {fmt_bound(self.max)}"
        return kind + span + (", or empty for off" if self.optional else "")

    def parse(self, raw: Any) -> Any:
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            if self.optional:
                return None
            raise InputError(self.name, f"{self.label} needs a value: {self.accepted()}.")
        value = to_number(raw)
        if (value is None or not math.isfinite(value) or (self.integer and value != int(value))
                or not self.min <= value <= self.max):
            raise InputError(self.name, f"{self.label} takes {self.accepted()}; got {shown(raw)}.")
        return int(value) if self.integer else float(value)


class Choice(Param):
    __slots__ = ("options",)

    def __init__(self, name: str, label: str, default: Any, control: str = "none", help: str = "", *,
                 options: tuple[tuple[str, str], ...] = ()):
        super().__init__(name, label, default, control, help)
        self.options = options  # (value, label) pairs

    def accepted(self) -> str:
        return "one of " + ", ".join(repr(value) for value, _ in self.options)

    def parse(self, raw: Any) -> Any:
        values = [value for value, _ in self.options]
        if raw not in values:
            raise InputError(self.name, f"{self.label} takes {self.accepted()}; got {raw!r}.")
        return raw


class Text(Param):
    __slots__ = ("max_length",)

    def __init__(self, name: str, label: str, default: Any, control: str = "none", help: str = "", *,
                 max_length: int = 200):
        super().__init__(name, label, default, control, help)
        self.max_length = max_length

    def accepted(self) -> str:
        return f"text of at most {self.max_length} characters"

    def parse(self, raw: Any) -> Any:
        if not isinstance(raw, str) or len(raw) > self.max_length:
            raise InputError(self.name, f"{self.label} takes {self.accepted()}.")
        return raw


class Numbers(Param):
    """A list of numbers the reader edits in place, in the view (control "edit").

    The view marks one handle per entry: an element with data-edit=NAME, data-index=I (from 0),
    data-value (the number it drew with) and data-label (what the entry is, for a screen reader);
    the page makes each a slider once Python is live (arrow keys, pointer and touch drags).
    The value travels as text, the numbers separated by commas ("9,6.4,-0.5"), as the directive
    writes it too. With default None, an empty value is None: the view picks the list itself
    (an example's own scores). length: the exact number of entries, or None for 1 to max_length.
    reset_by: names of controls whose change puts the list back to the built one (the list
    belongs to the example a radio picks, say); the page also offers a reset button.
    """

    __slots__ = ("min", "max", "step", "length", "max_length", "reset_by", "reset_label")

    def __init__(self, name: str, label: str, default: Any = None, control: str = "edit", help: str = "", *,
                 min: float, max: float, step: float, length: int | None = None, max_length: int = 64,
                 reset_by: tuple[str, ...] = (), reset_label: str = "Reset"):
        super().__init__(name, label, default, control, help)
        if not (math.isfinite(min) and math.isfinite(max) and min < max and step > 0):
            raise ValueError(f"parameter {name!r} needs finite bounds min < max and a step above 0.")
        self.min = min
        self.max = max
        self.step = step
        self.length = length
        self.max_length = length if length is not None else max_length
        self.reset_by = tuple(reset_by)
        self.reset_label = reset_label

    def accepted(self) -> str:
        count = f"{self.length}" if self.length is not None else f"1 to {self.max_length}"
        empty = ", or nothing for the figure's own" if self.default is None else ""
        return (f"{count} numbers from {fmt_bound(self.min)} to {fmt_bound(self.max)}, "
                f"separated by commas{empty}")

    def parse(self, raw: Any) -> Any:
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            if self.default is None:
                return None
            raise InputError(self.name, f"{self.label} needs a value: {self.accepted()}.")
        if isinstance(raw, str):
            entries: list[Any] = raw.split(",", self.max_length)   # never more pieces than allowed + 1
        elif isinstance(raw, (list, tuple)):
            entries = list(raw)
        else:
            raise InputError(self.name, f"{self.label} takes {self.accepted()}.")
        if not (self.length or 1) <= len(entries) <= self.max_length:
            got = f"more than {self.max_length}" if len(entries) > self.max_length else str(len(entries))
            raise InputError(self.name, f"{self.label} takes {self.accepted()}; got {got}.")
        return tuple(self.entry(i, raw_entry) for i, raw_entry in enumerate(entries))

    def entry(self, i: int, raw: Any) -> float:
        value = to_number(raw)
        if value is None or not math.isfinite(value) or not self.min <= value <= self.max:
            shown = raw.strip() if isinstance(raw, str) else raw
            raise InputError(self.name, f"{self.label}: entry {i + 1} takes a number from "
                                        f"{fmt_bound(self.min)} to {fmt_bound(self.max)}; got {shown!r}.")
        return value

    def text(self, value: Any) -> str:
        """The value as the page holds it: '' for None, else the numbers separated by commas."""
        return "" if value is None else ",".join(f"{x:.15g}" for x in value)

    def handle(self, index: int, value: float, label: str, inner: str, valuetext: str = "") -> str:
        """The handle of entry `index` as the page expects it, around `inner` (escaped HTML that
        shows the value; an element in it marked data-edit-track is the length a drag spans,
        from min at its left edge to max at its right, else the handle itself)."""
        text = valuetext or f"{value:g}"
        return (f'<div class="edit-handle" data-edit="{escape(self.name)}" data-index="{index}" '
                f'data-value="{value:.15g}" data-label="{escape(label)}" data-valuetext="{escape(text)}">'
                f'{inner}</div>')


class Button(Param):
    """An action: the parameter is `value` when the button was pressed, else None."""

    __slots__ = ("value",)

    def __init__(self, name: str, label: str, default: Any = None, control: str = "button", help: str = "",
                 *, value: str = "press"):
        super().__init__(name, label, default, control, help)
        self.value = value

    def parse(self, raw: Any) -> Any:
        return self.value if raw == self.value else None


def to_number(raw: Any) -> float | None:
    """A float, or None when raw is not a number; too large a number is infinite, which every
    Number refuses (float(10**400) raises OverflowError; str() of a 5,000-digit int, ValueError)."""
    if isinstance(raw, bool):
        return None
    try:
        if isinstance(raw, (int, float)):
            return float(raw)
        return float(str(raw).strip())
    except OverflowError:
        return math.inf
    except ValueError:
        return None


def shown(raw: Any) -> str:
    """A value as a message quotes it: repr, cut short (a reader may send 5,000 digits)."""
    text = repr(raw) if not isinstance(raw, int) or abs(raw) < 10 ** 40 else "a number that large"
    return text if len(text) <= 40 else text[:37] + "..."


def fmt_bound(x: float) -> str:
    return f"{x:g}"


class View(NamedTuple):
    """What a view function returns.

    html: the figure (SVG or HTML), self-contained, no scripts.
    summary: one plain sentence for screen readers and as the figure's text alternative.
    state: new values for hidden parameters (for example a counter of draws).
    """

    html: str
    summary: str
    state: Mapping = MappingProxyType({})   # none, and nobody may add to this shared default


class Widget(NamedTuple):
    name: str
    title: str
    params: tuple[Param, ...]
    view: Callable[..., View]

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params if p.control != "button"}

    def parse_state(self, raw: dict) -> dict:
        """Check every value the page or the directive sends; the first bad one raises."""
        unknown = sorted(set(raw) - {p.name for p in self.params})
        if unknown:
            raise InputError(unknown[0], f"{self.name} has no parameter {unknown[0]!r}; "
                                         f"it takes {', '.join(p.name for p in self.params)}.")
        state = {}
        for p in self.params:
            state[p.name] = p.parse(raw[p.name]) if p.name in raw else (
                None if p.control == "button" else p.default)
        return state

    def render(self, raw: dict) -> View:
        return self.view(**self.parse_state(raw))


REGISTRY: dict[str, Widget] = {}


def widget(name: str, title: str, params: list[Param]) -> Callable:
    """Register a view function as the widget `name` (the name the directive uses)."""
    for p in params:
        if p.control not in CONTROLS:
            raise WidgetError(f"parameter {p.name!r} of widget {name!r} has control {p.control!r}; "
                             f"use one of {', '.join(CONTROLS)}.")
        for other in getattr(p, "reset_by", ()):
            if other not in {q.name for q in params}:
                raise ValueError(f"parameter {p.name!r} of widget {name!r} is reset by {other!r}, "
                                 "which is not one of its parameters.")

    def register(view: Callable[..., View]) -> Callable[..., View]:
        known = REGISTRY.get(name)
        if known is not None and where(known.view) != where(view):
            raise WidgetError(f"the widget name {name!r} is registered twice: by {where(known.view)} "
                              f"and by {where(view)}; rename one.")
        REGISTRY[name] = Widget(name, title, tuple(params), view)
        return view

    return register


def where(view: Callable) -> str:
    """A view function as messages name it: module.function (importing a module again
    registers the same function again, which is no conflict)."""
    return f"{view.__module__}.{view.__qualname__}"
