"""Rasa's graph runs its nodes as dask's scheduler does (components/patches/graph_runner.py).

Random graphs shaped as Rasa builds them (each node a task reading other nodes,
Rasa's `(name, value)` inputs as data), run through `dask.get` and through the
patch, first run and later ones: the nodes are called in the same order with
the same arguments, the same results come back, and an exception from a node
is the same exception after the same nodes ran. Graphs the patch does not
recognise, and dask callbacks, take dask's own path.
"""

from __future__ import annotations

import random
from typing import Any

import dask
import pytest
from dask.callbacks import Callback
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner

from components import patches
from components.patches import graph_runner


class Node:
    """A graph node that records its calls (as Rasa's GraphNode, it answers (name, value))."""

    def __init__(self, name: str, calls: list, fail_on: Any = None) -> None:
        self.name, self.calls, self.fail_on = name, calls, fail_on

    def __call__(self, *inputs):
        self.calls.append((self.name, inputs))
        values = [found[1] if type(found) is tuple else found for found in inputs]
        if self.fail_on is not None and any(value == self.fail_on for value in values):
            raise RuntimeError(f"{self.name} failed")
        return (self.name, (self.name, values))


def random_graph(rng: random.Random, calls: list, fail_on: Any = None) -> tuple[dict, list[str]]:
    """A DAG of 3-25 nodes reading earlier nodes and the inputs, with 1-3 targets."""
    size = rng.randint(3, 25)
    names = [f"node_{i}_{rng.choice('abcxyz')}" for i in range(size)]
    graph: dict[str, Any] = {"__input__": None, "__other__": None}
    for i, name in enumerate(names):
        pool = ["__input__", "__other__", *names[:i]]
        reads = rng.sample(pool, rng.randint(0 if i else 1, min(3, len(pool))))
        failing = fail_on if rng.random() < 0.3 else None
        graph[name] = (Node(name, calls, failing), *reads)
    targets = rng.sample(names, rng.randint(1, min(3, size)))
    if names[-1] not in targets:
        targets.append(names[-1])
    return graph, targets


OTHER = [object(), {"k": "node_0_a"}, "node_1_b"]  # key names inside an input are not read as keys


def with_inputs(graph: dict, value: Any) -> dict:
    run = dict(graph)
    run["__input__"] = ("__input__", value)  # as Rasa's _add_inputs_to_graph
    run["__other__"] = ("__other__", OTHER)
    return run


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_run_as_dask_runs_them(seed):
    rng = random.Random(seed)
    dask_calls: list = []
    ours_calls: list = []
    graph, targets = random_graph(rng, dask_calls)
    ours_graph = {k: (Node(v[0].name, ours_calls), *v[1:]) if v else v for k, v in graph.items()}
    kept: dict = {}
    for value in ("first", ["a list", 2], {"x": 1}, "node_1_a", 3.5):
        dask_calls.clear()
        ours_calls.clear()
        expected = dask.get(with_inputs(graph, value), targets)
        found = graph_runner.run_in_dask_order(with_inputs(ours_graph, value), targets, kept)
        assert found == expected
        assert type(found) is type(expected)
        assert [(n, repr(i)) for n, i in ours_calls] == [(n, repr(i)) for n, i in dask_calls]
    assert len(kept) == 1  # one shape, ordered once


@pytest.mark.parametrize("seed", range(20))
def test_a_failing_node_fails_the_same_way_after_the_same_nodes(seed):
    rng = random.Random(1000 + seed)
    dask_calls: list = []
    ours_calls: list = []
    graph, targets = random_graph(rng, dask_calls, fail_on="boom")
    ours_graph = {k: (Node(v[0].name, ours_calls, v[0].fail_on), *v[1:]) if v else v for k, v in graph.items()}
    kept: dict = {}
    graph_runner.run_in_dask_order(with_inputs(ours_graph, "fine"), targets, kept)  # the order written down
    assert kept
    dask_calls.clear()
    ours_calls.clear()
    failures = []
    for run, chosen in ((dask.get, graph), (lambda g, t: graph_runner.run_in_dask_order(g, t, kept), ours_graph)):
        try:
            run(with_inputs(chosen, "boom"), targets)
            failures.append(None)
        except RuntimeError as e:
            failures.append(str(e))
    assert failures[0] == failures[1]
    assert [(n, repr(i)) for n, i in ours_calls] == [(n, repr(i)) for n, i in dask_calls]


def test_graphs_it_does_not_recognise_take_dasks_path():
    calls: list = []
    node = Node("a", calls)
    assert graph_runner.graph_shape({"a": (node, "not a key")}) is None
    assert graph_runner.graph_shape({"a": (node,), "data": [1, 2]}) is None
    assert graph_runner.graph_shape({"a": (node, "x"), "x": ("y", 1)}) is None  # not Rasa's (name, value)
    kept: dict = {}
    graph = {"a": (node, "literal")}
    assert graph_runner.run_in_dask_order(graph, ["a"], kept) == dask.get(graph, ["a"]) and not kept
    with Callback():
        graph = {"a": (node, "x"), "x": ("x", 1)}
        assert graph_runner.run_in_dask_order(graph, ["a"], kept) == dask.get(graph, ["a"]) and not kept


class _Component:
    """Stands for a graph component in the schema (minimal_graph_schema reads only needs and targets)."""


def _runner(calls: list, fail_on: Any = None) -> DaskGraphRunner:
    def node(needs: dict, target: bool = False) -> SchemaNode:
        return SchemaNode(needs=needs, uses=_Component, constructor_name="create", fn="f", config={}, is_target=target)

    schema = GraphSchema(
        {
            "tokens": node({"messages": "__message__"}),
            "features": node({"messages": "tokens"}),
            "intent": node({"messages": "features"}, target=True),
            "unused": node({"messages": "tokens"}),
            "policy": node({"tracker": "__tracker__", "intent": "intent"}, target=True),
        }
    )
    runner = DaskGraphRunner.__new__(DaskGraphRunner)
    runner._graph_schema = schema
    runner._instantiated_nodes = {name: Node(name, calls, fail_on) for name in schema.nodes}
    runner._execution_context = None
    return runner


def test_the_runner_gives_what_rasas_runner_gives():
    patches.install()
    rasa_run = patches._originals["rasa.engine.runner.dask.DaskGraphRunner.run"]
    rasa_calls: list = []
    ours_calls: list = []
    theirs, ours = _runner(rasa_calls), _runner(ours_calls)
    for i in range(4):
        for targets in (None, ["intent"], ["policy"]):
            inputs = {"__message__": [f"message {i}"], "__tracker__": f"tracker {i}"}
            rasa_calls.clear()
            ours_calls.clear()
            expected = rasa_run(theirs, inputs, targets)
            assert ours.run(inputs, targets) == expected
            assert ours_calls == rasa_calls
    assert len(graph_runner._orders[ours]) == 2  # all targets and the policy's need the same nodes: one shape
    with pytest.raises(GraphRunError, match="clashes"):  # Rasa's own check of the inputs comes first
        ours.run({"__message__": "tokens"})


def test_a_runtime_error_is_rasas_graph_run_error():
    patches.install()
    runner = _runner([], fail_on="boom")
    runner.run({"__message__": ["fine"], "__tracker__": "fine"})
    assert graph_runner._orders[runner]
    with pytest.raises(GraphRunError) as raised:
        runner.run({"__message__": "boom", "__tracker__": "fine"})
    assert str(raised.value.__cause__) == "tokens failed"


@pytest.fixture(scope="module")
def processor():
    from rasa.core.agent import Agent

    from tests.e2e.conftest import _model

    patches.install()
    return Agent.load(str(_model())).processor


@pytest.mark.e2e
def test_the_trained_models_graph_parses_and_predicts_as_with_dask(processor):
    """With the trained model (RASA_MODEL, else the newest in models/): the messages of the
    development sets parsed and every prediction point of the stories, through the patch
    (its first run of a shape and the later ones) and through Rasa's own runner (dask)."""
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.importers.importer import TrainingDataImporter

    from bot.settings import PROJECT_ROOT

    runner = processor.graph_runner
    rasa_run = patches._originals["rasa.engine.runner.dask.DaskGraphRunner.run"]
    nlu, core = processor.model_metadata.nlu_target, processor.model_metadata.core_target
    texts = ["hi", "LN-10001", "1 June 1980", "I lost my job last month", "in 10 days", "yes", "我失业了", "不要"]
    for text in texts * 2:
        tracker = DialogueStateTracker("parse", processor.domain.slots)
        inputs = {PLACEHOLDER_MESSAGE: [UserMessage(text, sender_id="parse")], PLACEHOLDER_TRACKER: tracker}
        ours = runner.run(inputs=inputs, targets=[nlu])[nlu]
        inputs = {PLACEHOLDER_MESSAGE: [UserMessage(text, sender_id="parse")], PLACEHOLDER_TRACKER: tracker}
        theirs = rasa_run(runner, inputs=inputs, targets=[nlu])[nlu]
        assert [m.as_dict(only_output_properties=True) for m in ours] == [
            m.as_dict(only_output_properties=True) for m in theirs
        ], text
    importer = TrainingDataImporter.load_from_config(
        str(PROJECT_ROOT / "config.yml"), str(PROJECT_ROOT / "domain.yml"), [str(PROJECT_ROOT / "data")]
    )
    generator = TrainingDataGenerator(
        importer.get_stories(), importer.get_domain(), augmentation_factor=0, remove_duplicates=False
    )
    points = 0
    for number, story in enumerate(generator.generate_story_trackers()):
        if story.is_rule_tracker:
            continue
        tracker = DialogueStateTracker(f"story-{number}", processor.domain.slots)
        for event in story.events:
            if isinstance(event, ActionExecuted) and len(tracker.events) > 1:
                ours = runner.run(inputs={PLACEHOLDER_TRACKER: tracker}, targets=[core])[core]
                theirs = rasa_run(runner, inputs={PLACEHOLDER_TRACKER: tracker}, targets=[core])[core]
                assert ours == theirs, f"story {number}, event {len(tracker.events)}"
                points += 1
            tracker.update(event)
    assert points > 100 and len(graph_runner._orders[runner]) >= 2, points
