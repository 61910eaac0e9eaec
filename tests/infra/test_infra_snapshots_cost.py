"""Snapshot tests per stack (asset hashes masked), the cost estimate and the environment configs.

Update snapshots after an intended change: BEACON_UPDATE_SNAPSHOTS=1 pytest tests/infra
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from infra_support import ENVIRONMENTS, BuiltEnvironment, mask_hashes

from infra import cost
from infra.config import ENVIRONMENTS as CONFIGS
from infra.config import get_config

SNAPSHOTS = Path(__file__).parent / "snapshots"
STACKS = ("Network", "Data", "Ml", "Serving", "Observability")
UPDATE = os.environ.get("BEACON_UPDATE_SNAPSHOTS") == "1"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_matches_snapshot(stack: str, env: BuiltEnvironment) -> None:
    current = mask_hashes(env.template(stack))
    path = SNAPSHOTS / env.name / f"{stack}.json"
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
        if not UPDATE:
            pytest.fail(f"wrote new snapshot {path}; commit it and rerun")
    expected = json.loads(path.read_text())
    assert current == expected, (
        f"{env.name}/{stack} changed; if intended run BEACON_UPDATE_SNAPSHOTS=1 pytest tests/infra"
    )


def test_cost_estimate_per_environment(built: dict[str, BuiltEnvironment]) -> None:
    table = cost.load_prices("us-east-1")
    totals = {}
    for name in ENVIRONMENTS:
        items = cost.estimate(built[name].templates, table, name)
        kinds = {i.resource_type for i in items}
        assert {"AWS::RDS::DBInstance", "AWS::MWAA::Environment"} <= kinds
        # dev's NAT is an instance (config nat="instance"), staging and prod use gateways.
        nat = "AWS::EC2::Instance" if name == "dev" else "AWS::EC2::NatGateway"
        assert nat in kinds
        assert all(i.monthly_usd >= 0 for i in items)
        totals[name] = cost.total(items)
        report = cost.render(items, table, name)
        assert "TOTAL" in report and table["as_of"] in report
    assert totals["dev"] < totals["staging"] < totals["prod"]
    for name, value in totals.items():
        assert value <= CONFIGS[name].monthly_budget_usd, (name, value)


def test_cost_cli_reads_a_synth_folder(
    built: dict[str, BuiltEnvironment], capsys: pytest.CaptureFixture[str]
) -> None:
    cost.main(["--env", "dev", "--templates", str(built["dev"].outdir), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["env"] == "dev" and report["total"] > 0


def test_configs_are_frozen_and_protect_prod() -> None:
    prod = get_config("prod")
    with pytest.raises(dataclasses.FrozenInstanceError):
        prod.name = "dev"  # type: ignore[misc]
    assert prod.database.deletion_protection and prod.database.multi_az
    assert prod.database.removal == "snapshot" and prod.nat == "per_az"
    assert get_config("dev").database.removal == "destroy"
    assert len({c.vpc_cidr for c in CONFIGS.values()}) == 3


def test_config_moves_to_another_account_and_region() -> None:
    moved = get_config("staging", "222222222222", "eu-west-1")
    assert moved.account == "222222222222"
    assert moved.availability_zones == ("eu-west-1a", "eu-west-1b")
    with pytest.raises(ValueError, match="unknown environment"):
        get_config("qa")
