"""Parses a model card with huggingface_hub's ModelCard (the Hub's own parser); prints its metadata and eval results as JSON."""
import json
import sys

from huggingface_hub import ModelCard

card = ModelCard.load(sys.argv[1])
results = [
    {
        "task": r.task_type,
        "dataset": r.dataset_name,
        "dataset_type": r.dataset_type,
        "dataset_revision": r.dataset_revision,
        "metric": r.metric_type,
        "value": r.metric_value,
    }
    for r in (card.data.eval_results or [])
]
print(json.dumps({"data": card.data.to_dict(), "eval_results": results, "text": card.text}))
