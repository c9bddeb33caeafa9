"""Process-wide plumbing: settings, logging, the Temporal connection and payload codec."""
