"""A sweep's cells: the scenario each one simulates, and the sample grid."""

from __future__ import annotations

from pathlib import Path

from hotline.routing.model import OverflowAction, Strategy
from hotline.sim import driver
from hotline.sim.sweep import Cell, RoutingVariant, load_grid

SAMPLE = Path(driver.__file__).parent / "samples" / "appliance_sweep.yaml"


def test_the_sample_grid_varies_the_monday_morning_over_eighteen_cells():
    grid = load_grid(SAMPLE)
    cells = grid.cells()
    assert len(cells) == 18
    assert (grid.replications, grid.seed) == (5, 7)
    # Staffing slowest, then routing, then volume.
    assert [(c.staffing, c.routing.name, c.volume) for c in cells[:3]] == [
        (0.8, "as configured", 1.0),
        (0.8, "as configured", 1.2),
        (0.8, "no overflow", 1.0),
    ]


def test_a_cell_changes_the_center_agents_rules_and_volume_of_the_base_scenario():
    base = load_grid(SAMPLE).scenario
    repair = next(g for g in base.agents if any(m.id for m in g.members))
    cell = Cell(
        1.5,
        RoutingVariant(
            "changed", strategy=Strategy.FEWEST_CONTACTS, overflow=False, callback_after_s=45
        ),
        2.0,
    )
    scenario = cell.scenario(base)
    group = scenario.agents[base.agents.index(repair)]
    ids = [m.id for m in group.members]
    assert group.count == len(ids) == round(repair.count * 1.5)
    # The named agents first, then repeated with their skills under new ids.
    assert ids[: repair.count] == [m.id for m in repair.members]
    assert ids[repair.count] == f"{repair.members[0].id}~2"
    assert group.members[repair.count].skills == repair.members[0].skills
    assert len(set(ids)) == len(ids)
    for before, after in zip(base.queues, scenario.queues, strict=True):
        assert after.config.strategy is Strategy.FEWEST_CONTACTS
        # Only the variant's callback is left: the center's overflow rules are off.
        assert [r.action for r in after.config.overflow] == [OverflowAction.CALLBACK]
        assert after.config.overflow[0].value == 45
        assert after.handle_time == before.handle_time
    for stream, doubled in zip(base.arrivals, scenario.arrivals, strict=True):
        assert doubled.rates_per_s == tuple(2 * r for r in stream.rates_per_s)
    assert "staffing ×1.5, changed, volume ×2" in scenario.name


def test_the_rules_as_configured_are_left_alone():
    base = load_grid(SAMPLE).scenario
    scenario = Cell(1.0, RoutingVariant("as configured"), 1.0).scenario(base)
    assert [q.config for q in scenario.queues] == [q.config for q in base.queues]
    assert [g.count for g in scenario.agents] == [g.count for g in base.agents]
