"""Prints the CDK context JSON for a direct `python app.py` synth: cdk.json flags plus `env`.

`make synth` runs app.py without the CDK CLI (faster, offline); the CLI would otherwise be
what passes cdk.json's feature flags to the app, so this does the same.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def context_for(env_name: str, **extra: str) -> dict[str, object]:
    """cdk.json's context with the environment (and any extra keys) set."""
    context = dict(json.loads(CDK_JSON.read_text())["context"])
    context.update({"env": env_name, **extra})
    return context


if __name__ == "__main__":
    # Optional second argument: an operator-values JSON file (make synth OPERATOR_VALUES=...);
    # optional third: 1 for the idle state (make idle / make cost IDLE=1).
    extra = {"operator_values": sys.argv[2]} if len(sys.argv) > 2 and sys.argv[2] else {}
    if len(sys.argv) > 3 and sys.argv[3].lower() in ("1", "true", "yes"):
        extra["idle"] = "true"
    print(json.dumps(context_for(sys.argv[1] if len(sys.argv) > 1 else "dev", **extra)))
