"""snapshot_download from a (local) Hub endpoint: prints the snapshot folder. Test-only reference client."""
import sys

from huggingface_hub import snapshot_download

endpoint, repo_id, cache_dir, revision = sys.argv[1:5]
print(snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, endpoint=endpoint))
