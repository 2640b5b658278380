"""Custom Rasa NLU components (loaded by the Rasa server; import Rasa only where needed)."""
