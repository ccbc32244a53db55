"""The Textual overlay (live and replay), its event feed and its view model."""
