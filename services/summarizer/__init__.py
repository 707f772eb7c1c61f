"""The summarizer: compresses the earlier half of a context window into a <state_snapshot>."""
