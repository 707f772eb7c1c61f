"""The process runtime every service shares: settings base, entry-point lifecycle, observability."""
