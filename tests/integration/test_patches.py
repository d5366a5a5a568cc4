"""The patches of Rasa (components/patches/): declared, installed once, only on the pinned Rasa,
by every module through which Rasa enters our code."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import pytest
import rasa
import yaml

from bot.ops.endpoints import endpoints_config
from bot.settings import PROJECT_ROOT, Settings
from components import patches
from components.patches import Patch

TARGETS = {
    "rasa.core.actions.action.RemoteAction.run",
    "rasa.core.actions.action.RemoteAction._validate_action_result",
    "rasa.core.actions.action.RemoteAction.__init__",
    "rasa.shared.core.events.Event.resolve_by_type",
    "rasa.utils.endpoints.EndpointConfig.session",
    "rasa.utils.endpoints.EndpointConfig.request",
    "rasa.core.processor.MessageProcessor._predict_next_with_tracker",
    "rasa.core.actions.action.RemoteAction._action_call_format",
    "rasa.shared.core.trackers.DialogueStateTracker.copy",
    "rasa.shared.core.trackers.DialogueStateTracker.get_last_event_for",
    "rasa.core.agent.Agent._create_tracker_store",
    "rasa.core.processor.MessageProcessor.log_message",
    "rasa.core.policies.rule_policy.RulePolicy._get_possible_keys",
    "rasa.core.featurizers.tracker_featurizers.TrackerFeaturizer._create_states",
    "rasa.engine.runner.dask.DaskGraphRunner.run",
}


def _in_place(target: str):
    """What the class that `target` names holds under that attribute now."""
    class_path, _, name = target.rpartition(".")
    module, _, cls = class_path.rpartition(".")
    return vars(getattr(importlib.import_module(module), cls))[name]


@pytest.fixture
def reinstalled():
    """Patches taken out for the test, and put back after it (ask for it before
    monkeypatch, so that Rasa's version is restored first)."""
    patches.uninstall()
    try:
        yield
    finally:
        patches.install()


def test_every_patch_is_declared_with_its_target_and_a_reason():
    assert {p.target for p in patches.PATCHES} == TARGETS
    assert len(patches.PATCHES) == len(TARGETS)
    for patch in patches.PATCHES:
        assert patch.reason.strip() and "\n" not in patch.reason, patch.target
        assert patch.target.startswith("rasa."), patch.target


def test_install_replaces_every_declared_target():
    patches.install()
    for patch in patches.PATCHES:
        assert _in_place(patch.target) is patch.replacement, patch.target
        assert patches._originals[patch.target] is not patch.replacement
        assert patches._originals[patch.target].__module__.startswith("rasa."), patch.target  # Rasa's own
    assert patches.installed_patches() == patches.PATCHES
    from rasa.core.actions.action import RemoteAction

    from components.patches.action_guard import _guarded_run

    assert RemoteAction.run is _guarded_run


def test_installing_twice_changes_nothing():
    patches.install()
    before = {t: _in_place(t) for t in TARGETS}, dict(patches._originals)
    patches.install()
    assert ({t: _in_place(t) for t in TARGETS}, dict(patches._originals)) == before
    assert patches.installed_patches() == patches.PATCHES


def test_uninstall_gives_rasa_its_own_back(reinstalled):
    assert patches.installed_patches() == ()
    assert all(_in_place(t).__module__.startswith("rasa.") for t in TARGETS)


def test_another_rasa_version_stops_startup_and_says_what_to_do(reinstalled, monkeypatch):
    monkeypatch.setattr(rasa, "__version__", "3.6.99")
    with pytest.raises(RuntimeError) as raised:
        patches.install()
    message = str(raised.value)
    assert "Rasa 3.6.99 is installed" in message  # the installed version
    assert "rasa==3.6.21" in message and "pyproject.toml" in message  # the pinned one
    assert "tests/integration/test_speedups.py" in message and "update RASA_VERSION" in message  # what to do
    assert patches.installed_patches() == ()  # nothing replaced


def test_the_pinned_version_is_the_one_in_pyproject_and_the_lock():
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    assert re.findall(r'"rasa==([^"]+)"', pyproject) == [patches.RASA_VERSION]
    lock = (PROJECT_ROOT / "requirements.lock").read_text()
    assert re.findall(r"^rasa==(\S+)", lock, re.MULTILINE) == [patches.RASA_VERSION]
    assert rasa.__version__ == patches.RASA_VERSION  # this environment is the pinned one


def test_a_target_rasa_does_not_define_stops_install_before_anything_is_replaced(reinstalled, monkeypatch):
    missing = Patch("rasa.core.actions.action.RemoteAction.no_such_method", lambda self: None, "for the test")
    monkeypatch.setattr(patches, "PATCHES", patches.PATCHES + (missing,))
    with pytest.raises(RuntimeError, match=r"RemoteAction\.no_such_method"):
        patches.install()
    monkeypatch.undo()
    assert patches.installed_patches() == ()


def _modules_rasa_loads() -> set[str]:
    """The modules of our classes that Rasa loads by name, in every way it is started here."""
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text())
    paths = {c["name"] for c in config["pipeline"] + config["policies"] if "." in c["name"]}
    endpoints = [
        yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text()),
        endpoints_config(
            Settings(tracker_store_url="postgresql://rasa@db/trackers", lock_store_url="redis://cache:6379/0")
        ),
    ]
    paths |= {e[store]["type"] for e in endpoints for store in ("tracker_store", "lock_store") if store in e}
    paths |= {name for name in yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text()) if "." in name}
    return {path.rpartition(".")[0] for path in paths}


def test_every_module_rasa_loads_installs_the_patches_and_importing_components_does_not():
    modules = sorted(_modules_rasa_loads())
    assert {
        "components.intent_classifier",
        "components.vulnerability",
        "components.tracker_store",
        "components.lock_store",
        "channels.rest",
        "channels.socketio",
    } <= set(modules)
    # A fresh interpreter: each module, imported as Rasa first imports it (with its packages)
    # while the patches are out, puts them back.
    script = """
import importlib, sys
import components
from components import patches
assert patches.installed_patches() == (), "importing components patched Rasa"
for name in sys.argv[1:]:
    patches.uninstall()
    assert patches.installed_patches() == ()
    parts = name.split(".")
    for ancestor in (".".join(parts[:i]) for i in range(1, len(parts) + 1)):
        if ancestor != "components":
            sys.modules.pop(ancestor, None)
    importlib.import_module(name)
    assert patches.installed_patches() == patches.PATCHES, name
print("installed by", len(sys.argv) - 1, "modules")
"""
    done = subprocess.run(
        [sys.executable, "-c", script, *modules], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"installed by {len(modules)} modules" in done.stdout
