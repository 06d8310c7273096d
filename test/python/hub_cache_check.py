"""Reads a model from an HF hub cache the way Python users do, offline: prints JSON with the snapshot
folder huggingface_hub finds, the parameter count of transformers' from_pretrained(local_files_only)
and the problems huggingface_hub's cache scan reports. Test-only reference client."""
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"

from huggingface_hub import scan_cache_dir, snapshot_download  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

cache_dir, repo_id, revision = sys.argv[1:4]
snapshot = snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, local_files_only=True)
model = AutoModelForCausalLM.from_pretrained(repo_id, revision=revision, cache_dir=cache_dir, local_files_only=True)
scan = scan_cache_dir(cache_dir)
print(json.dumps({
    "snapshot": snapshot,
    "parameters": model.num_parameters(),
    "warnings": [str(w) for w in scan.warnings],
    "revisions": sorted(r.commit_hash for repo in scan.repos for r in repo.revisions),
}))
