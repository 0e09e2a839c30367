"""The determinism replay: the current handler code against recorded executions, no step body run.

- :mod:`.replayer`: ``Replayer``, the one object that replays one recorded execution;
- :mod:`.report`: what a replay found (``ReplayReport``, ``Divergence``);
- :mod:`.seams`: the two points of the SDK the replay observes and blocks;
- :mod:`.positions`: operation Ids as positions (how a moved step is recognised);
- :mod:`.production`, :mod:`.bulk`: executions read from AWS or saved histories, replayed in bulk;
- :mod:`.checker`: ``ReplayChecker``, the ``durable_replay`` fixture's object;
- :mod:`.cli`: the `pytest-durable replay` command.
"""
