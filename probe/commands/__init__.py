"""Click commands that live outside `probe/cli.py`, registered there with `cli.add_command`.

Kept apart so long-running and operator commands (`schedule`, `status`) can grow without
turning the CLI module into a grab bag.
"""
