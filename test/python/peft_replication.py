"""Builds the expanded model from a PEFT adapter_config.json with layer_replication (peft's own code) and prints, for each
layer of the result, the index of the base layer whose weights it shares. Test-only reference consumer."""
import json
import sys

from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

adapter_dir, model_dir = sys.argv[1:3]
config = LoraConfig.from_pretrained(adapter_dir)
model = AutoModelForCausalLM.from_pretrained(model_dir)
base = [layer.self_attn.q_proj.weight.data_ptr() for layer in model.model.layers]
peft_model = get_peft_model(model, config)
layers = peft_model.base_model.model.model.layers
order = [base.index(layer.self_attn.q_proj.base_layer.weight.data_ptr()) for layer in layers]
print(json.dumps({"order": order, "num_hidden_layers": peft_model.config.num_hidden_layers, "lora": sum("lora_A" in n for n, _ in peft_model.named_parameters())}))
