"""The agent policy: renders each trajectory's next prompt, calls its model, proposes one action."""
