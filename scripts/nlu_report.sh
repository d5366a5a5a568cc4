#!/usr/bin/env bash
# Language-understanding quality: 5-fold cross-validation of the intent
# classifier over data/nlu (English and, in data/nlu/zh/, Chinese), with the
# pipeline in config.yml. Prints the intent macro-F1 per language (issue 13's bar:
# Chinese >= 0.95, English >= 0.97) and overall; the full reports (and
# confusion-matrix images) go to results/nlu-cv/, which is not committed. Takes
# about 10 minutes on 2 cores. The blind sets (tests/nlu_holdout_*.yml) are
# measured by tests/e2e/test_nlu_holdout.py in scripts/test.sh.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_venv
cd "$ROOT"
rm -rf results/nlu-cv
rasa test nlu --nlu data/nlu --config config.yml --cross-validation --folds "${FOLDS:-5}" \
  --successes --out results/nlu-cv --quiet
python - <<'PY'
import json

from sklearn.metrics import f1_score

from components.language import script_of  # which model reads each example

report = json.load(open("results/nlu-cv/intent_report.json"))
macro = report["macro avg"]
print(f"intent macro-F1 over {len([k for k in report if k not in ('accuracy', 'macro avg', 'weighted avg', 'micro avg')])} intents: "
      f"{macro['f1-score']:.3f} (precision {macro['precision']:.3f}, recall {macro['recall']:.3f})")
worst = sorted(((v['f1-score'], k) for k, v in report.items() if isinstance(v, dict) and 'support' in v and k not in ('macro avg', 'weighted avg', 'micro avg')))[:5]
print("lowest:", ", ".join(f"{k} {f:.2f}" for f, k in worst))

rows = []
for name in ("intent_successes.json", "intent_errors.json"):
    try:
        rows += json.load(open(f"results/nlu-cv/{name}"))
    except FileNotFoundError:
        pass
for language, label in (("en", "English"), ("zh", "Chinese")):
    mine = [r for r in rows if script_of(r["text"]) == language]
    if not mine:
        continue
    gold = [r["intent"] for r in mine]
    predicted = [(r.get("intent_prediction") or {}).get("name") or "" for r in mine]
    f1 = f1_score(gold, predicted, average="macro", labels=sorted(set(gold)))
    accuracy = sum(g == p for g, p in zip(gold, predicted)) / len(mine)
    print(f"{label}: macro-F1 {f1:.3f}, accuracy {accuracy:.3f} over {len(mine)} examples")
PY
