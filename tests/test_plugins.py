"""The hooks of charter.hookspecs are the one way Charter is wired: every hook has a built-in
implementation, the manager validates, and what the built-ins register can be called the way
each hook's docstring says it is called."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pluggy
import pytest

from charter import hookspecs
from charter.plugins import DEFAULT_PLUGINS, collect, make_plugin_manager

SPECS = sorted(name for name in dir(hookspecs) if name.startswith("register_"))
#: ``register(name, factory(a, b) -> X)`` / ``register(name, async check(rt) -> ...)`` in a docstring.
CALL = re.compile(r"``register\((?:\w+), (?:async )?(\w+)\(([\w, ]*)\)")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pm() -> pluggy.PluginManager:
    return make_plugin_manager(load_entrypoints=False)


def test_the_manager_validates_every_implementation(pm: pluggy.PluginManager) -> None:
    pm.check_pending()  # no implementation of a hook that is not declared
    assert [name for name, _ in pm.list_name_plugin()] == list(DEFAULT_PLUGINS)


@pytest.mark.parametrize("hook", SPECS)
def test_every_hook_has_a_builtin_implementation(pm: pluggy.PluginManager, hook: str) -> None:
    assert getattr(pm.hook, hook).get_hookimpls(), f"{hook}: declared but no default plugin implements it"


@pytest.mark.parametrize("hook", SPECS)
def test_what_is_registered_takes_the_documented_arguments(pm: pluggy.PluginManager, hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    found = collect(pm, hook, rt=SimpleNamespace(plugins=pm))
    assert found, hook
    match = CALL.search(doc)
    if match is None:  # the value is an object (a router, a format, a gate...), not called
        return
    params = [p.strip() for p in match.group(2).split(",") if p.strip()]
    for name, value in found.items():
        assert callable(value), (hook, name)
        try:
            inspect.signature(value).bind(*params)
        except TypeError as exc:
            pytest.fail(f"{hook}: {name} cannot be called as {match.group(1)}({', '.join(params)}): {exc}")


def test_the_documented_arguments_are_what_charter_passes() -> None:
    """The call sites pass what the docstrings promise (read from the source, so a change of
    either shows up here)."""
    sources = {
        "register_content_sources": ("charter/runtime.py", "factories[self.settings.source](self)"),
        "register_cache_backends": ("charter/runtime.py", "factories[self.settings.cache](self.settings)"),
        "register_runtime_services": ("charter/runtime.py", "install(rt)"),
        "register_startup": ("charter/app.py", "await start(app, rt)"),
        "register_openapi_amendments": ("charter/app.py", "amend(document, rt)"),
        "register_readiness_checks": ("charter/observability/api.py", "await check(rt)"),
        "register_metric_collectors": ("charter/observability/collectors.py", "factory(rt)"),
        "register_worker_duties": ("charter/worker.py", "duty(self.rt)"),
    }
    for hook, (path, call) in sources.items():
        assert call in (ROOT / path).read_text(encoding="utf-8"), (hook, path, call)
        doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
        documented = CALL.search(doc)
        assert documented is not None, hook
        assert call.count(",") == documented.group(2).count(","), (hook, call, documented.group(0))


def test_no_module_is_imported_by_name_but_plugins() -> None:
    """Wiring goes through hooks: importlib.import_module appears only where plugins load (and in
    the lazy public attributes of charter/__init__.py and charter/metrics/__init__.py)."""
    found = subprocess.run(
        ["grep", "-rln", "import_module", str(ROOT / "charter")], capture_output=True, text=True, check=False
    ).stdout.split()
    relative = sorted(str(Path(p).relative_to(ROOT)) for p in found if p.endswith(".py"))
    assert relative == ["charter/__init__.py", "charter/metrics/__init__.py", "charter/plugins.py"]


def test_a_plugin_source_can_be_chosen(tmp_path: Path) -> None:
    """CHARTER_SOURCE accepts any registered source and refuses an unknown one, naming the known."""
    code = (
        "from charter.config import DEMO_DIR, load_settings\n"
        "from charter.runtime import Runtime\n"
        "from charter.exceptions import ConfigError\n"
        f"s = load_settings(DEMO_DIR, database_url='sqlite:///{tmp_path}/x.db', source='nosuch')\n"
        "try:\n    Runtime.open(s)\nexcept ConfigError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "unknown content source 'nosuch'" in out.stdout and "embedded, wagtail" in out.stdout, out
    chosen = code.replace("source='nosuch'", "source='shelf'") + "print(type(Runtime.open(s).source).__name__)\n"
    env = {**os.environ, "CHARTER_PLUGINS": "tests.plugin_example"}
    out = subprocess.run([sys.executable, "-c", chosen], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    assert out.stdout.splitlines()[-1] == "EmbeddedSource", out
