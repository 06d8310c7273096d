"""Independent reference for dlec's parameter counts: transformers' num_parameters() (tied
weights counted once) for each model folder given on the command line. Prints JSON {dir: count}."""
import json
import sys

from transformers import AutoModelForCausalLM

out = {}
for d in sys.argv[1:]:
    model = AutoModelForCausalLM.from_pretrained(d)
    out[d] = model.num_parameters()
print(json.dumps(out))
