"""Asks the real mergekit about mergekit YAML, in one process for many configs (test-only).

stdin: JSON list of {"yaml": text, "queries": [{"slice", "model", "tensorName", "t"}]}.
stdout: JSON list, one entry per input:
  {"ok": false, "error": "..."}  when MergeConfiguration.model_validate(yaml.safe_load(text)) refuses it, else
  {"ok": true, "loaded": <yaml.safe_load result>, "slices": [[[model, start, end], ...], ...],
   "merge_method": str, "dtype": str|null, "scales": [value per query]}
where scales come from mergekit's own parameter resolver for passthrough's `scale`.
"""

import json
import sys

import yaml
import mergekit.merge_methods as merge_methods
from mergekit.config import ConfigReader, MergeConfiguration
from mergekit.parameter_resolver import resolve_parameter

SCALE = next(p for p in merge_methods.get("passthrough").spec.parameters if p.name == "scale")


def check(item):
    try:
        loaded = yaml.safe_load(item["yaml"])
        cfg = MergeConfiguration.model_validate(loaded)
    except Exception as e:  # noqa: BLE001 - the message is the answer
        return {"ok": False, "error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
    slices = [
        [[str(src.model), src.layer_range[0], src.layer_range[1]] for src in s.sources] for s in (cfg.slices or [])
    ]
    scales = []
    for q in item.get("queries", []):
        out_slice = cfg.slices[q["slice"]]
        model = next(src.model for src in out_slice.sources if str(src.model) == q["model"])
        reader = ConfigReader(config=cfg, t=q["t"], slice_out=out_slice)
        scales.append(
            resolve_parameter(SCALE, tuple(reader.parameter_sources(model)), tensor_name=q["tensorName"], t=q["t"], model=model)
        )
    return {
        "ok": True,
        "loaded": loaded,
        "slices": slices,
        "merge_method": cfg.merge_method,
        "dtype": cfg.dtype,
        "scales": scales,
    }


def main():
    items = json.load(sys.stdin)
    json.dump([check(i) for i in items], sys.stdout, default=str)


if __name__ == "__main__":
    main()
