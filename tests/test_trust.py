"""Hostile input (issue 16): an article, a setting or a request is data. It never runs code,
never names a file outside the site, never hangs or crashes the build with a traceback: every
mistake gets `content/FILE.md:LINE: what`. Build-time tests stay at the unit level or build tiny
sites that fail before the expensive steps."""
from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

import widgetkit
from sitegen import preview as preview_module
from sitegen import serve
from sitegen.config import load_config
from sitegen.content import read_article, render_template_body, split_front_matter
from sitegen.content import Directive
from sitegen.errors import BuildError
from sitegen.site import DirectiveRenderer, Paths, build_site, template_env

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "site" / "content"
FRONT = "---\ntitle: T\ndate: 2026-01-02\nsummary: S\n---\n"   # five lines: the body starts at line 6
FAST = 5.0   # seconds: far above what a refusal takes, far below what the unguarded build took


def located(caught, where: str) -> str:
    """The message of a BuildError, checked to start with `where: `."""
    text = str(caught.value)
    assert text.startswith(f"{where}: "), text
    return text


# ---- the article's template: only facts and settings ------------------------------------

CONTEXT = {"facts": {"answer": "42", "rows": [{"label": "a"}, {"label": "b"}]},
           "site": {"title": "Notes"}}


@pytest.mark.parametrize("expression", [
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__.os.environ }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ range(10) | list }}",
    "{{ facts.answer.__class__.__mro__ }}",
    "{{ facts.answer.upper() }}",
    "{{ facts.items() }}",
    "{% set x = facts.answer %}{{ x }}",
    "{{ facts.answer * 100000000 }}",
    "{{ facts.answer ~ facts.answer }}",
    "{{ facts.answer | indent(100000000) }}",
    "{% macro m() %}{% endmacro %}",
    "{% include 'base.html' %}",
])
def test_an_article_reaches_nothing_but_facts_and_settings(expression):
    body = "line one\n" + expression + "\n"
    with pytest.raises(BuildError) as caught:
        render_template_body(body, CONTEXT, "content/a.md", 5)
    located(caught, "content/a.md:7")


def test_the_article_template_indexes_a_list_from_its_end():
    assert render_template_body("{{ facts.rows[-1].label }}\n", CONTEXT, "content/a.md", 5) == "b\n"


def test_the_article_template_still_prints_facts_settings_loops_and_conditions():
    body = ("{{ facts.answer }} {{ site.title }} {{ facts['answer'] }}\n"
            "{% for row in facts.rows %}{{ row.label }}{{ loop.index }} {% endfor %}\n"
            "{% if facts.answer == '42' %}yes{% else %}no{% endif %} {{ facts.answer | upper }}\n")
    assert render_template_body(body, CONTEXT, "content/a.md", 5) == "42 Notes 42\na1 b2 \nyes 42\n"


def test_the_shell_command_never_runs(tmp_path):
    marker = tmp_path / "ran"
    body = "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}\n"
    with pytest.raises(BuildError):
        render_template_body(body, CONTEXT, "content/a.md", 5)
    assert not marker.exists()


def test_a_site_setting_is_text_not_an_object_with_methods(tmp_path):
    """`site` reaches the article as its settings' text: no Path of the widget folder to read."""
    from sitegen import site as site_module
    config = load_config(FIXTURE)
    context = site_module.article_context(config, {"answer": "42"})
    with pytest.raises(BuildError):
        render_template_body("{{ site.widgets.read_text() }}\n", context, "content/a.md", 5)
    assert render_template_body("{{ site.title }}\n", context, "content/a.md", 5) == "Fixture Notes\n"


# ---- front matter and settings ----------------------------------------------------------

BOMB = ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
        "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
        "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n")


@pytest.mark.parametrize("front, where, words", [
    ("title: T\ndate: 2026-01-02\nsummary: S\nupdated: yesterday\n", "content/a.md:5", "updated"),
    ("title: T\ndate: 2026-01-02\nsummary: S\ntags: 5\n", "content/a.md:5", "tags"),
    ("title: T\ndate: 2026-01-02\nsummary: S\ntags: [[a]]\n", "content/a.md:5", "tags"),
    ("title: [T]\ndate: 2026-01-02\nsummary: S\n", "content/a.md:2", "title"),
    ("title: T\ndate: 2026-01-02\nsummary: S\n" + BOMB, "content/a.md:", "alias"),
    ("title: T\ndate: 2026-01-02\nsummary: S\nx: " + "[" * 5000 + "]" * 5000 + "\n", "content/a.md:", "deep"),
    ("title: T\ndate: 2026-01-02\nsummary: S\nx: " + "y" * 70_000 + "\n", "content/a.md:2", "64 kb"),
])
def test_front_matter_mistakes_are_located_and_fast(front, where, words):
    started = time.perf_counter()
    with pytest.raises(BuildError) as caught:
        split_front_matter(f"---\n{front}---\nbody\n", "content/a.md")
    assert str(caught.value).startswith(where) and words in str(caught.value).lower()
    assert time.perf_counter() - started < FAST


@pytest.mark.parametrize("setting, line, words", [
    ("offline_zip: ../../outside.zip", 3, "offline_zip"),
    ("offline_zip: /tmp/outside.zip", 3, "offline_zip"),
    ("offline_zip: index.html", 3, "offline_zip"),
    ("offline_zip: a/b.zip", 3, "offline_zip"),
])
def test_offline_zip_is_a_plain_file_name(tmp_path, setting, line, words):
    (tmp_path / "site.yml").write_text(f"title: T\n# a comment\n{setting}\n")
    with pytest.raises(BuildError) as caught:
        load_config(tmp_path)
    assert words in located(caught, f"content/site.yml:{line}")


def test_site_yml_refuses_aliases_quickly(tmp_path):
    (tmp_path / "site.yml").write_text(BOMB.replace("i: &i", "title: &i"))
    started = time.perf_counter()
    with pytest.raises(BuildError) as caught:
        load_config(tmp_path)
    assert str(caught.value).startswith("content/site.yml:") and "alias" in str(caught.value)
    assert time.perf_counter() - started < FAST


# ---- the article's Markdown and math ----------------------------------------------------

def article(tmp_path, body: str) -> Path:
    path = tmp_path / "a.md"
    path.write_text(FRONT + body, encoding="utf-8")
    return path


def renderer() -> DirectiveRenderer:
    """Directives drawn as the article's site draws them (its site.yml declares sampling, ngram
    and widgets as its Python)."""
    return DirectiveRenderer(template_env(Paths(ROOT, FIXTURE, ROOT / ".cache")), "a",
                             load_config(ROOT / "content"))


def read(path: Path):
    return read_article(path, "content/a.md", CONTEXT, renderer())


@pytest.mark.parametrize("body, line, words", [
    ("Fine.\n\nA broken $\\frac{$ formula.\n", 8, "formula"),
    ("Fine.\n\n$$\n" + "{" * 3000 + "x" + "}" * 3000 + "\n$$\n", 8, "formula"),
    ("Fine.\n\n$$\n\\frac{\n$$\n", 8, "formula"),
    ("Fine.\n\n" + "\n".join("    " * i + "- item" for i in range(400)) + "\n", 8 + 32, "nested"),
    ("Fine.\n\n" + "> " * 1500 + "quote\n", 8, "nested"),
    ("Fine.\n\n" + "- " * 1500 + "item\n", 8, "nested"),
    ("Fine.\n\nA paragraph of " + "[" * 50_000 + "\n", 8, "["),
    ("Fine.\n\nA paragraph of " + "<a " * 50_000 + "\n", 8, "<"),
])
def test_markdown_and_math_mistakes_are_located_and_fast(tmp_path, body, line, words):
    started = time.perf_counter()
    with pytest.raises(BuildError) as caught:
        read(article(tmp_path, body))
    assert words in located(caught, f"content/a.md:{line}")
    assert time.perf_counter() - started < FAST


def test_an_article_file_over_the_size_cap_is_refused(tmp_path):
    with pytest.raises(BuildError) as caught:
        read(article(tmp_path, "word " * 1_000_000))
    assert "content/a.md" in str(caught.value) and "MB" in str(caught.value)


def test_a_long_article_with_every_feature_still_reads(tmp_path):
    body = ("## Part\n\nSome $x^2$ and [a link](#part), *emphasis*, `code`.\n\n$$\n\\frac{a}{b}\n$$\n\n"
            + "\n".join("    " * i + "- item" for i in range(6)) + "\n\n> quoted\n")
    got = read(article(tmp_path, body))
    assert "<math" in got.body_html and "<blockquote>" in got.body_html


# ---- ::: code shows only the site's own modules -----------------------------------------

@pytest.mark.parametrize("name", ["unittest.__main__.main", "os.system", "subprocess.run",
                                  "sampling.core.np", "sitegen.site.build_site", "this.s"])
def test_code_directive_refuses_modules_that_are_not_the_sites(name):
    draw = renderer()
    before = set(sys.modules)
    with pytest.raises(BuildError) as caught:
        draw(Directive("code", "content/a.md:9", name))
    assert "own" in located(caught, "content/a.md:9")
    assert {"unittest.__main__", "this"} & (set(sys.modules) - before) == set()


def test_code_directive_shows_the_sites_functions():
    assert "apply_top_p" in renderer()(Directive("code", "content/a.md:9", "sampling.apply_top_p"))


def test_allowed_code_module_is_one_rule_fed_by_a_list_of_packages():
    from sitegen.guard import allowed_code_module
    assert allowed_code_module("sampling.core", {"sampling", "widgets"})
    assert allowed_code_module("widgets", {"sampling", "widgets"})
    assert not allowed_code_module("samplingx", {"sampling"})
    assert not allowed_code_module("os", {"sampling"})
    assert not allowed_code_module("", {"sampling"})


# ---- what content/ may hold and how its files may be named -------------------------------

@pytest.fixture
def tiny(tmp_path) -> Path:
    """A one-article site with no widget: enough for the checks, which come before any heavy work."""
    content = tmp_path / "content"
    content.mkdir()
    (content / "a.md").write_text(FRONT + "Hello.\n")
    return content


def refused(tiny: Path, tmp_path: Path) -> str:
    out = tmp_path / "_site"
    started = time.perf_counter()
    with pytest.raises(BuildError) as caught:
        build_site(ROOT, out, tiny, tmp_path / "cache")
    assert not out.exists()
    assert time.perf_counter() - started < FAST   # refused before the runtime is assembled
    return str(caught.value)


def test_a_symlink_in_content_is_never_published(tiny, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the site")
    (tiny / "passwd.txt").symlink_to(secret)
    message = refused(tiny, tmp_path)
    assert message.startswith("content/passwd.txt: ") and "link" in message


def test_a_symlinked_folder_in_content_is_never_published(tiny, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.txt").write_text("x")
    (tiny / "images").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert refused(tiny, tmp_path).startswith("content/images: ")


@pytest.mark.parametrize("name", ["index.md", "index.html", "feed.xml", "sitemap.xml", "sw.js",
                                  "third-party.json", "nextword-offline.zip", "assets/style.css",
                                  "pyodide/x.js", "offline/runtime.js", "a.html"])
def test_reserved_names_in_content_are_refused(tiny, tmp_path, name):
    path = tiny / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FRONT + "x\n" if name.endswith(".md") else "x")
    message = refused(tiny, tmp_path)
    assert message.startswith(f"content/{name.split('/')[0]}: ") and "reserved" in message


@pytest.mark.parametrize("name", ["javascript:alert(1).md", "Upper.md", "a b.md", "-a.md", "é.md"])
def test_unsafe_article_names_are_refused(tiny, tmp_path, name):
    (tiny / name).write_text(FRONT + "x\n")
    message = refused(tiny, tmp_path)
    assert message.startswith(f"content/{name}: ") and "name" in message


def test_a_widget_folder_outside_content_is_refused(tiny, tmp_path):
    (tmp_path / "outside").mkdir()
    (tiny / "site.yml").write_text("title: T\nwidgets: ../outside\n")
    assert refused(tiny, tmp_path).startswith("content/site.yml:2: ")


# ---- the worker protocol always replies --------------------------------------------------

def ask(message: str) -> dict:
    return json.loads(widgetkit.handle(message))


def render_request(value: str) -> str:
    return '{"type": "render", "id": 3, "widget": "temperature", "state": {"temperature": ' + value + "}}"


@pytest.mark.parametrize("value", ["9" * 5000, "1" + "0" * 400, "1e400", "-" + "9" * 5000])
def test_handle_answers_huge_numbers_with_invalid(value):
    reply = ask(render_request(value))
    assert reply["type"] == "invalid" and reply["param"] == "temperature" and reply["id"] == 3


def test_handle_answers_deep_json_with_invalid():
    reply = ask(render_request("[" * 5000 + "]" * 5000))
    assert reply["type"] == "invalid"
    assert ask("[" * 100_000)["type"] in ("invalid", "error")


def test_number_parsing_refuses_overflow_without_raising():
    from widgetkit import Number, InputError
    number = Number("t", "T", default=1.0, min=0, max=3)
    for raw in (10 ** 400, "1e400", "9" * 5000, -(10 ** 400)):
        with pytest.raises(InputError):
            number.parse(raw)
    assert Number("n", "N", default=1, min=0, max=10, integer=True).parse(3) == 3


# ---- the preview server ------------------------------------------------------------------

@pytest.fixture
def preview(tmp_path):
    site = tmp_path / "_site"
    site.mkdir()
    (site / "index.html").write_text("<html><head></head><body>hi</body></html>")
    (site / "big.bin").write_bytes(os.urandom(8 << 20))
    with serve.running(serve.make_server(site, "127.0.0.1", 0, serve.PreviewStatus())) as server:
        yield server


def exchange(server, request: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(server.server_address[:2], timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
            if len(b"".join(chunks)) > 4096:
                break
        return b"".join(chunks)


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def test_preview_serves_a_page_to_a_loopback_host(preview):
    port = preview.server_address[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        reply = exchange(preview, f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        assert status_of(reply) == 200 and b"/__preview/reload.js" in reply


def test_preview_refuses_a_foreign_host_header(preview):
    """A DNS-rebinding page would come with its own name as Host: it gets no page and no events."""
    for path in ("/", "/__preview/events"):
        reply = exchange(preview, f"GET {path} HTTP/1.1\r\nHost: attacker.example:8000\r\n"
                                  "Connection: close\r\n\r\n".encode())
        assert status_of(reply) in (403, 421)


def test_preview_accepts_its_own_host_when_told(tmp_path):
    (tmp_path / "index.html").write_text("<html><head></head><body>hi</body></html>")
    server = serve.make_server(tmp_path, "127.0.0.1", 0, serve.PreviewStatus(), allowed_host="box.lan")
    with serve.running(server):
        reply = exchange(server, b"GET / HTTP/1.1\r\nHost: box.lan:8000\r\nConnection: close\r\n\r\n")
        assert status_of(reply) == 200


@pytest.mark.parametrize("path", ["/%00", "/index.html%00.txt", "/%ff%fe/../../x"])
def test_preview_answers_malformed_requests_with_400(preview, capfd, path):
    reply = exchange(preview, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    assert status_of(reply) in (400, 404)
    assert status_of(reply) == 400 or "%00" not in path
    assert "Traceback" not in capfd.readouterr().err


def wait_for_threads(count: int, timeout: float = 15) -> int:
    deadline = time.monotonic() + timeout
    while threading.active_count() > count and time.monotonic() < deadline:
        time.sleep(0.05)
    return threading.active_count()


def test_preview_says_nothing_when_a_reader_leaves_early(preview, capfd):
    before = threading.active_count()
    for _ in range(3):
        s = socket.create_connection(preview.server_address[:2])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        s.recv(100)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()   # a reset, mid-file
    assert wait_for_threads(before) <= before
    assert "Traceback" not in capfd.readouterr().err


def test_preview_bounds_its_threads(preview):
    before = threading.active_count()
    idle = [socket.create_connection(preview.server_address[:2]) for _ in range(100)]
    try:
        # the server takes connections in order: once this one is answered, all 100 were taken
        exchange(preview, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert threading.active_count() - before <= serve.MAX_CONNECTIONS + 1
    finally:
        for s in idle:
            s.close()


def test_preview_closes_idle_connections(preview, monkeypatch):
    monkeypatch.setattr(serve.SiteHandler, "timeout", 0.5, raising=False)
    with socket.create_connection(preview.server_address[:2], timeout=10) as s:
        started = time.monotonic()
        try:
            closed = s.recv(100) == b""
        except TimeoutError:
            closed = False
    assert closed and time.monotonic() - started < 5


def test_preview_rebuild_that_runs_too_long_is_given_up(tmp_path, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(preview_module, "build_site", lambda *args, **kwargs: release.wait(30))
    monkeypatch.setattr(preview_module, "REBUILD_TIMEOUT", 1.0)
    running = preview_module.Preview(tmp_path, tmp_path / "content", tmp_path / "_site", tmp_path / "cache")
    started = time.monotonic()
    try:
        assert running.rebuild() is False
        assert time.monotonic() - started < 10
        assert running.status.build == 0 and "given up" in running.status.error
        assert running.stuck   # the next change starts the command again
        assert running.on_demand("offline.zip") is False   # the runaway build holds the lock: no wait
    finally:
        release.set()
