"""Where the actions run: a bounded pool of threads, off the action server's event loop.

The loan store is synchronous (SQLAlchemy, psycopg2): run on the action server's
event loop, every statement, COMMIT and ROLLBACK stopped the whole server until
PostgreSQL answered, so one action server waited for one database round trip at
a time whatever the number of conversations (issue 18: half its samples under
load). Every action's `run` goes through `actions.common._polite_failure`, which
hands it here: the call runs in one of `ACTION_THREADS` threads (each with an
event loop of its own, as the actions are coroutines that await nothing but
each other), and the server's loop goes on reading and answering other calls
meanwhile; psycopg2 and sqlite3 release the GIL while they wait.

- Bounded: at most `ACTION_THREADS` calls run at once (each holds at most one
  pooled loan-store connection, bot/adapters/database.py); more wait in the
  pool's queue. The action's deadline is checked once a thread takes it, so a
  call that waited past Rasa's deadline does nothing.
- Order: Rasa's lock store lets one message of a conversation through at a
  time, and Rasa waits for each action call before the next, so a
  conversation's actions still run one after the other, in order.
- Each call opens its own SQLAlchemy session (`Database.transaction`, one per
  unit of work) and its own dispatcher and tracker: nothing of a call is shared
  with another thread. The commit deadline is a context variable set inside the
  thread.
- An action that runs another action's `run` (offers.py) stays in its thread.
- `ACTION_THREADS=0` runs the actions on the event loop, as before.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_local = threading.local()  # in a worker: its event loop
_guard = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def _executor(size: int) -> ThreadPoolExecutor | None:
    """The process's pool of `size` threads (made on first use), None for 0."""
    global _pool, _pool_size
    if size <= 0:
        return None
    with _guard:
        if _pool is None or _pool_size != size:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="action")
            _pool_size = size
        return _pool


def in_worker() -> bool:
    """Whether this thread is one of the pool's."""
    return getattr(_local, "loop", None) is not None


def _run_in_worker(call: Coroutine[Any, Any, T]) -> T:
    loop = getattr(_local, "loop", None)
    if loop is None:
        loop = _local.loop = asyncio.new_event_loop()
    return loop.run_until_complete(call)


async def off_the_event_loop(call: Coroutine[Any, Any, T], threads: int) -> T:
    """Await `call` in one of `threads` worker threads (on this loop when 0, or
    when already in a worker)."""
    pool = None if in_worker() else _executor(threads)
    if pool is None:
        return await call
    try:
        started = asyncio.get_running_loop().run_in_executor(pool, _run_in_worker, call)
    except RuntimeError:  # the pool is shut down (the process is stopping)
        call.close()  # never started: no "never awaited" warning
        raise
    return await started


def shutdown() -> None:
    """Stop the pool's threads once their calls are done (tests; process exit)."""
    global _pool, _pool_size
    with _guard:
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool, _pool_size = None, 0
