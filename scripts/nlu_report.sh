#!/usr/bin/env bash
# Language-understanding quality: 5-fold cross-validation of the intent
# classifier over data/nlu, with the pipeline in config.yml. Prints the intent
# macro-F1; the full reports (and confusion-matrix images) go to results/nlu-cv/,
# which is not committed. Takes about 7 minutes on 2 cores.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_venv
cd "$ROOT"
rm -rf results/nlu-cv
rasa test nlu --nlu data/nlu --config config.yml --cross-validation --folds "${FOLDS:-5}" \
  --out results/nlu-cv --quiet
python - <<'PY'
import json
report = json.load(open("results/nlu-cv/intent_report.json"))
macro = report["macro avg"]
print(f"intent macro-F1 over {len([k for k in report if k not in ('accuracy', 'macro avg', 'weighted avg', 'micro avg')])} intents: "
      f"{macro['f1-score']:.3f} (precision {macro['precision']:.3f}, recall {macro['recall']:.3f})")
worst = sorted(((v['f1-score'], k) for k, v in report.items() if isinstance(v, dict) and 'support' in v and k not in ('macro avg', 'weighted avg', 'micro avg')))[:5]
print("lowest:", ", ".join(f"{k} {f:.2f}" for f, k in worst))
PY
