"""Knowledge layer: load policy documents, normalise text, chunk along legal structure, curated FAQ."""
