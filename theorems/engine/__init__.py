"""The engine (DESIGN.md, theorems/): running the claims of a spec and judging them.

In the order of a check: ``plan`` (which rounds a setting runs) -> ``rounds`` (sample a round,
then ``traces`` runs the algorithm or ``pointwise`` draws points; ``distribution_rounds`` for
distribution settings; ``round_data`` is what a round is) -> ``claims`` (measured vs bound per
round, with ``statistics``) -> ``checker`` (verdicts over all rounds). Searches for the worst
instance: ``adversaries``, ``hypothesis_search``; ``counterexample`` writes and replays witnesses;
``profiles``, ``seeding``, ``calibration``, ``loading`` (a user's algorithm). Imports the language,
never the front ends or the catalog (tests/test_layout.py).
"""
