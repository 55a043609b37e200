"""The quantities the rules read per draw (lib/measures/quantities.py)."""

import duckdb

from dagster_project.lib.measures.quantities import _per_draw


def test_every_entity_appears_in_every_draw_with_its_forecast_where_it_has_one():
    """An entity the forecast drew gets its draw's value in each scenario; one with nothing left to
    forecast (no rows in the draws table) keeps its actuals in every scenario, with null forecast
    columns; a draw of an entity without actuals adds nothing."""
    con = duckdb.connect()
    con.execute("create temp table scenarios as select range::integer as scenario from range(1, 4)")
    con.execute("create temp table a_things as select * from (values ('A', 'x', 10), ('B', 'x', 20), ('A', 'y', 30))"
                " t(owner, destination, actual)")
    con.execute("create temp table draws as select * from (values (1, 'A', 'x', 1.5), (2, 'A', 'x', 2.5),"
                " (3, 'A', 'x', 3.5), (1, 'C', 'x', 9.0), (2, 'C', 'x', 9.0), (3, 'C', 'x', 9.0))"
                " t(draw, owner, destination, fc)")
    rows = con.execute(f"select scenario, owner, destination, actual, fc from "
                       f"{_per_draw('a_things', 'draws', ('owner', 'destination'), ('fc',))} order by all").fetchall()
    assert [(s, o, d, a, float(f) if f is not None else None) for s, o, d, a, f in rows] == [
        (1, "A", "x", 10, 1.5), (1, "A", "y", 30, None), (1, "B", "x", 20, None),
        (2, "A", "x", 10, 2.5), (2, "A", "y", 30, None), (2, "B", "x", 20, None),
        (3, "A", "x", 10, 3.5), (3, "A", "y", 30, None), (3, "B", "x", 20, None),
    ]
