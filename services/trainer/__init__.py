"""The trainer: versioned SFT datasets with per-turn loss masks, exports, training, evaluation."""
