"""Token ids from Python `tokenizers` for dlec's tokenizer tests (test-only).

stdin: {"dirs": [MODEL_DIR, ...], "texts": [TEXT, ...]}; stdout: {MODEL_DIR: [[ids of TEXT], ...]}
(tokenizer.json with its post-processor, i.e. special tokens added as the model adds them).
"""
import json
import os
import sys

from tokenizers import Tokenizer


def main() -> None:
    req = json.load(sys.stdin)
    out = {}
    for d in req["dirs"]:
        tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        out[d] = [tok.encode(t).ids for t in req["texts"]]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
