"""The action judge: rules as data decide which actions to mask in training (pure core)."""
