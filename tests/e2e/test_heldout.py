"""Held-out borrower language, end to end (issue 17): every message in tests/heldout/<lang>/
in its own fresh, verified conversation at its step, scored by what the assistant did.

One test per message set and step (`dev-en-reason`, `blind-zh-offers`, ...), so that the
long sets spread over the xdist workers. Each prints its step's table (see it with
`pytest -s` or scripts/heldout_report.sh) and merges its step into
results/heldout_<set>.json. Fails on any unintended consequential action (a recorded
agreement, a cancellation, an amendment, a dispute, a hold, a fraud claim or an opt-out
nobody asked for), on a sensible share below the ratchet in tests/heldout/floors.yml, and
when the conversation could not be brought to a step (then nothing was measured there).

Two sets per language: the development set (tests/heldout/<lang>/, tuned on) and the
blind set (tests/heldout/blind/<lang>/, written without reading the training data or the
development set, never tuned on: the README reports its figures). HELDOUT_LANGS=en narrows
the languages, HELDOUT_SETS=dev or blind the sets; HELDOUT_DIR points at other message files.

Each message's conversation is forked from one brought to the step once per test
(tests/e2e/heldout.py, "The fork"); HELDOUT_REPLAY=1 brings every one there with the
fixed messages instead, as before, to check that both give the same results (docs/ci.md).
"""

from __future__ import annotations

import pytest

from tests.e2e import heldout

pytestmark = pytest.mark.e2e

CASES = heldout.cases()


@pytest.mark.skipif(not CASES, reason=f"no held-out messages in {heldout.HELDOUT}")
@pytest.mark.parametrize(
    ("lang", "step"), [pytest.param(lang, step, id=heldout.case_id(lang, step)) for lang, step in CASES] or [("-", "-")]
)
def test_heldout_language_is_handled_sensibly(servers, lang, step):
    found, messages = heldout.load_step(heldout.step_files(lang)[step])
    assert found == step, f"{lang}: the file for {step} says step {found}"
    floor = heldout.floors(lang)[step]
    model = heldout.model_name()
    harness = heldout.Harness(servers, lang)
    scores = harness.score({step: messages}, workers=4)

    print("\n" + heldout.table(lang, model, scores, {step: floor}))
    for replayed, why in harness.replayed_because().items():
        print(f"({replayed}: every conversation replayed, not forked: {why})")
    path = heldout.write_results(lang, model, scores)
    print(f"(merged into {path})")

    problems = []
    for score in scores:
        if score.unintended:
            problems.append(f"{score.step}: {score.unintended} unintended consequential action(s)")
        if score.unreached:
            problems.append(f"{score.step}: {len(score.unreached)} conversation(s) could not reach the step")
        if score.n and score.sensible < floor:
            problems.append(f"{score.step}: sensible {score.sensible:.1%} below the floor {floor:.1%}")
    assert not problems, "\n".join(problems)
