"""Where this assistant replaces parts of Rasa, in the open.

Eight modules replace attributes of Rasa 3.6 classes. Each declares what it
replaces in its PATCHES: the dotted name of the Rasa symbol and a one-line
reason. `install()` puts all of them in place; `installed_patches()` lists
what is in place (`python -m components.patches` prints it).

- action_guard.py: a failing or slow action server gets the borrower a polite
  `utter_action_server_unavailable` instead of silence (`RemoteAction.run`).
- speedups.py: two hot spots of Rasa made cheap, with the same results
  (validating action-server responses, looking up event classes) and a kept
  HTTP session to the action server.
- in_process_actions.py: with `in_process: true` in the action endpoint, an
  action call runs the action server's webhook in the Rasa process
  (`EndpointConfig.request`): the same JSON each way, no HTTP.
- tracker_store_failures.py: a tracker store that cannot be read or written
  fails the turn (the channel refuses the message with 503) instead of Rasa
  carrying on with a conversation it keeps nowhere (`Agent._create_tracker_store`).
- long_conversations.py: the per-message work that grew with the length of a
  conversation (policies' `past_states`, the events in each action call,
  `DialogueStateTracker.copy`) now does not.
- policies.py: RulePolicy's rule matching compiled once and indexed by the
  previous action, and a tracker's dialogue states computed once per
  prediction instead of once per RulePolicy pass; the same predictions.
- graph_runner.py: Rasa's graph (the NLU pipeline, each prediction) runs its
  nodes in the order dask's scheduler ran them for the same graph shape,
  without the scheduler's work on every run (`DaskGraphRunner.run`).
- language.py: the language a message shows (components/language.py) is
  known before the session's first words and every reply of the turn
  (`MessageProcessor.log_message`). The one patch that changes what Rasa does,
  by design; tests/integration/test_language.py and the Chinese e2e tests.

They rely on Rasa's internals, so they are installed only on the Rasa version
they were checked against (RASA_VERSION, the pin in pyproject.toml): on any
other, importing this package or calling `install()` raises RuntimeError
before anything is replaced, and Rasa does not start.
Equivalence tests show they change how fast Rasa works, never what it does:
tests/integration/test_speedups.py, tests/integration/test_graph_runner.py, tests/integration/test_policy_speedups.py, tests/integration/test_long_conversations.py,
tests/actions/test_action_failures.py, tests/e2e/test_long_conversations.py;
tests/integration/test_patches.py checks the registry itself.

Who calls install(), and why there. Importing `components` patches nothing.
Rasa instantiates our classes itself, so each module through which Rasa enters
our code calls `install()` at its top, and Rasa imports it before it handles
the first message:

- components/intent_classifier.py and components/vulnerability.py: the graph
  components of config.yml's pipeline. Every model this project trains
  (`rasa train`) names them in its graph, and Rasa imports them when it
  reads the model: in `rasa run` and `rasa shell` before the server or the
  shell takes a message, in `rasa test core` (Agent.load, no endpoints) before
  the first test story.
- components/tracker_store.py: the tracker store of every endpoints file
  (endpoints.yml's in-memory store; the SQL store from `python -m bot
  endpoints`), created with the agent at start-up.
- components/lock_store.py: the Redis lock store from `python -m bot
  endpoints` in production.
- channels/__init__.py: the input channels of credentials.yml, imported by
  `rasa run` before the server starts.

One would do; what each way of starting Rasa loads:

- `rasa run` with `python -m bot endpoints` (production): the model's
  components, the SQL tracker store, the Redis lock store, the channels.
- `rasa run` / `rasa shell` with endpoints.yml: the model's components and the
  in-memory tracker store (and the channels for `rasa run`; `rasa shell` uses
  Rasa's own command-line channel).
- `rasa test core`: the model's components only (it reads no endpoints). A
  core-only model (`rasa train core`) would bring none of our classes, and no
  patches; this project trains the whole model (`rasa train`, scripts/).
- tests: those of patched behaviour call `install()` or import one of these
  modules; the e2e tests start Rasa as above.

tests/integration/test_patches.py checks that every module named by config.yml,
endpoints.yml, `python -m bot endpoints` and credentials.yml installs the
patches when Rasa imports it.

`install()` is idempotent: a patch already in place is left as it is.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import rasa

from bot.domain.privacy import install_log_masking

# The Rasa the patches were checked against: rasa==... in pyproject.toml
# (tests/integration/test_patches.py checks that the two agree).
RASA_VERSION = "3.6.21"


@dataclass(frozen=True)
class Patch:
    """One Rasa attribute replaced: `target` is its dotted name
    (module.Class.attribute), `replacement` what is put in its place."""

    target: str
    replacement: Any
    reason: str


def check_rasa_version() -> None:
    """Raise unless the installed Rasa is the one the patches were checked against."""
    installed = rasa.__version__
    if installed != RASA_VERSION:
        raise RuntimeError(
            f"Rasa {installed} is installed, but the patches in components/patches/ replace internals of "
            f"rasa=={RASA_VERSION} (the pin in pyproject.toml) and were checked only against it; they could "
            f"silently change what this Rasa does. Either install rasa=={RASA_VERSION}, or move to Rasa "
            f"{installed} deliberately: run the equivalence tests (python -m pytest tests/integration/test_patches.py "
            "tests/integration/test_speedups.py tests/integration/test_policy_speedups.py "
            "tests/integration/test_long_conversations.py tests/actions/test_action_failures.py, and "
            "pytest -m e2e tests/e2e/test_long_conversations.py), fix or drop the patches they fail, then "
            "update RASA_VERSION in components/patches/__init__.py and the rasa pin in pyproject.toml "
            "and requirements.lock."
        )


# Checked before the modules below read Rasa's attributes (on another Rasa they
# could fail to import with a less helpful error), and again by install().
check_rasa_version()

# (after Patch: the modules declare their PATCHES with it)
from components.patches import (  # noqa: E402
    action_guard,
    graph_runner,
    in_process_actions,
    language,
    long_conversations,
    policies,
    speedups,
    tracker_store_failures,
)

PATCHES: tuple[Patch, ...] = (
    action_guard.PATCHES
    + speedups.PATCHES
    + in_process_actions.PATCHES
    + long_conversations.PATCHES
    + policies.PATCHES
    + tracker_store_failures.PATCHES
    + language.PATCHES
    + graph_runner.PATCHES
)

# target -> Rasa's own attribute, as found in the class before it was replaced
_originals: dict[str, Any] = {}


def _owner(patch: Patch) -> tuple[type, str]:
    """The class defining the patched attribute, and the attribute's name;
    RuntimeError if Rasa has no such attribute on that class."""
    class_path, _, name = patch.target.rpartition(".")
    module_name, _, class_name = class_path.rpartition(".")
    try:
        owner = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError):
        owner = None
    if not isinstance(owner, type) or name not in vars(owner):
        raise RuntimeError(
            f"Cannot patch {patch.target} ({patch.reason}): Rasa {rasa.__version__} does not define it "
            "there. See components/patches/__init__.py."
        )
    return owner, name


def install() -> None:
    """Put every declared patch in place: once, and only on the pinned Rasa.
    Every target is checked before anything is replaced. Also masks personal
    data in every log record and warning of the process (bot.domain.privacy),
    whichever of our modules Rasa loads first."""
    check_rasa_version()
    install_log_masking()
    owners = [(patch, *_owner(patch)) for patch in PATCHES]
    for patch, owner, name in owners:
        current = vars(owner)[name]
        if current is patch.replacement:
            continue
        _originals.setdefault(patch.target, current)
        setattr(owner, name, patch.replacement)


def uninstall() -> None:
    """Give Rasa back its own attributes (tests comparing with Rasa's behaviour)."""
    for patch in PATCHES:
        if patch.target in _originals:
            owner, name = _owner(patch)
            setattr(owner, name, _originals.pop(patch.target))


def installed_patches() -> tuple[Patch, ...]:
    """The declared patches now in place, in declaration order."""
    placed = []
    for patch in PATCHES:
        owner, name = _owner(patch)
        if vars(owner)[name] is patch.replacement:
            placed.append(patch)
    return tuple(placed)
