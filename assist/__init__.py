"""assist: a real-time call-assist overlay (local transcription + coaching prompts)."""

__version__ = "0.1.0"
