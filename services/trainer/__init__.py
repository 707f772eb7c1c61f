"""The trainer: datasets with per-turn loss masks, exports, masked SFT, evaluation."""
