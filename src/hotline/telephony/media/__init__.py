"""Media: rtpengine control, prompts, recordings."""
