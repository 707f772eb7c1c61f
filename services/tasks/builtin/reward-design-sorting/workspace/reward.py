"""The reward model: the piece to design."""


def reward(prompt, response):
    """A score for `response` to `prompt`; higher means better. Must not raise."""
    return 0.0
