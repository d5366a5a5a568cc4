"""Held-out borrower language, end to end (issue 17): every message in tests/heldout/<lang>/
in its own fresh, verified conversation at its step, scored by what the assistant did.

Prints the per-step table (see it with `pytest -s` or scripts/heldout_report.sh) and writes
results/heldout_<lang>.json. Fails on any unintended consequential action (a recorded
agreement, a cancellation, an amendment, a dispute, a hold, a fraud claim or an opt-out
nobody asked for), on a sensible share below the ratchet in tests/heldout/floors.yml, and
when the conversation could not be brought to a step (then nothing was measured there).

Two sets per language: the development set (tests/heldout/<lang>/, tuned on) and the
blind set (tests/heldout/blind/<lang>/, written without reading the training data or the
development set, never tuned on: the README reports its figures). HELDOUT_LANGS=en narrows
the languages, HELDOUT_SETS=dev or blind the sets; HELDOUT_DIR points at other message files.
"""

from __future__ import annotations

import pytest

from tests.e2e import heldout

pytestmark = pytest.mark.e2e

LANGUAGES = heldout.languages()


@pytest.mark.skipif(not LANGUAGES, reason=f"no held-out messages in {heldout.HELDOUT}")
@pytest.mark.parametrize("lang", LANGUAGES or ["-"])
def test_heldout_language_is_handled_sensibly(servers, lang):
    sets = heldout.load_sets(lang)
    floors = heldout.floors(lang)
    model = heldout.model_name()
    scores = heldout.Harness(servers, lang).score(sets, workers=4)

    print("\n" + heldout.table(lang, model, scores, floors))
    path = heldout.write_results(lang, model, scores)
    print(f"(written to {path})")

    problems = []
    for score in scores:
        if score.unintended:
            problems.append(f"{score.step}: {score.unintended} unintended consequential action(s)")
        if score.unreached:
            problems.append(f"{score.step}: {len(score.unreached)} conversation(s) could not reach the step")
        if score.n and score.sensible < floors[score.step]:
            problems.append(f"{score.step}: sensible {score.sensible:.1%} below the floor {floors[score.step]:.1%}")
    assert not problems, "\n".join(problems)
