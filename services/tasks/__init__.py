"""Task packs, the tools' argument schemas and the start event of a run on a task.

A shared library: whoever starts a trajectory (the CLI, the gateway) and the sandbox that
runs it read the same packs and agree on the same tool schemas.
"""
