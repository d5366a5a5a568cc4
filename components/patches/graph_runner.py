"""Rasa's graph runs its nodes in the order dask would, without dask's scheduler each time.

Every message runs Rasa's graph several times (`DaskGraphRunner.run`: the NLU
pipeline once, the policies once per prediction). Each run hands the graph to
dask's synchronous scheduler (`dask.get`), which for every run works out the
graph's dependencies, orders its keys (`dask.order.order`), and walks the
tasks through its ready queue, a future and a result queue one at a time: with
a graph of 10-25 nodes about 0.8 ms of a run's time on this machine, a quarter
of the time the graph runs took in a message (py-spy on a replica of the
production profile, one conversation at a time, issue 18).

That order depends only on the graph's shape: its keys, which key each task
reads, and which keys are data. Rasa builds the same shape for a runner and a
set of targets and inputs every time; only the inputs' values change. So the
first run of a shape goes through dask's own scheduler, unchanged, with the
order in which it executes the tasks written down; a later run of the same
shape on the same runner executes the tasks in that order with dask's own task
execution (`dask.core._execute_task`, what each of the scheduler's steps runs),
the inputs and the finished tasks' results in one dict as dask's cache holds
them, and returns the targets as `dask.get` returns them. An exception from a
node is raised as it is from dask's synchronous scheduler (the same exception
object, after the same nodes ran), and Rasa's `RuntimeError` -> `GraphRunError`
is kept. Anything this does not recognise takes Rasa's own path: a task whose
arguments are not all keys of the graph, a data value that is not Rasa's
`(input name, value)` pair, or dask callbacks in place (dask.diagnostics).

Test: tests/integration/test_graph_runner.py (random graphs shaped as Rasa's:
the nodes called in the same order, with the same arguments, the same results
and exceptions as `dask.get`, first run and later ones; the fallbacks).

Installed by `components.patches.install()` (who calls it: that package's docstring).
"""

from __future__ import annotations

import weakref
from typing import Any

from dask.callbacks import Callback
from dask.core import _execute_task, istask
from dask.local import get_async, nested_get, synchronous_executor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.runner.dask import logger as rasa_runner_logger

from components.patches import Patch

_rasa_run = DaskGraphRunner.run

# runner -> {graph shape: the keys of its tasks in the order dask's scheduler ran them}
_orders: weakref.WeakKeyDictionary[DaskGraphRunner, dict[tuple, tuple[str, ...]]] = weakref.WeakKeyDictionary()


def graph_shape(graph: dict[str, Any]) -> tuple | None:
    """What dask's order depends on: each task's key, function and the keys it reads,
    and the data keys; None for a graph not shaped as Rasa builds them."""
    shape: list[tuple] = []
    for key, value in graph.items():
        if istask(value):
            reads = value[1:]
            if not all(type(read) is str and read in graph for read in reads):
                return None
            shape.append((key, value[0], reads))
        elif type(value) is tuple and len(value) == 2 and value[0] == key and type(key) is str:
            # Rasa's input (`_add_inputs_to_graph`): dask reads it as data naming no key
            # (a tuple whose first item is not callable is not looked into)
            shape.append((key,))
        else:
            return None
    return tuple(shape)


def run_in_dask_order(graph: dict[str, Any], targets: Any, kept: dict[tuple, tuple[str, ...]]) -> Any:
    """`dask.get(graph, targets)`: through dask's synchronous scheduler the first time
    a shape is seen (its order written down in `kept`), then in that order."""
    shape = graph_shape(graph) if not Callback.active else None
    if shape is None:
        return get_async(synchronous_executor.submit, synchronous_executor._max_workers, graph, targets)
    order = kept.get(shape)
    if order is None:
        seen: list[str] = []

        def submit(fn, batch):
            seen.extend(task[0] for task in batch)
            return synchronous_executor.submit(fn, batch)

        # dask.get is dask.local.get_sync: get_async with the synchronous executor's submit
        result = get_async(submit, synchronous_executor._max_workers, graph, targets)
        kept[shape] = tuple(seen)
        return result
    cache = {key: value for key, value in graph.items() if not istask(value)}
    for key in order:
        cache[key] = _execute_task(graph[key], cache)
    return nested_get(targets, cache)


def _run(self: DaskGraphRunner, inputs: dict[str, Any] | None = None, targets: list[str] | None = None):
    # Rasa's DaskGraphRunner.run, with dask.get(run_graph, run_targets) run as above
    run_targets = targets if targets else self._graph_schema.target_names
    minimal_schema = self._graph_schema.minimal_graph_schema(run_targets)
    run_graph = self._build_dask_graph(minimal_schema)

    if inputs:
        self._add_inputs_to_graph(inputs, run_graph)

    rasa_runner_logger.debug(f"Running graph with inputs: {inputs}, targets: {targets} and {self._execution_context}.")

    try:
        dask_result = run_in_dask_order(run_graph, run_targets, _orders.setdefault(self, {}))
        return dict(dask_result)
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


PATCHES: tuple[Patch, ...] = (
    Patch(
        "rasa.engine.runner.dask.DaskGraphRunner.run",
        _run,
        "run the graph's nodes in the order dask's scheduler ran them for the same graph shape, without it",
    ),
)
