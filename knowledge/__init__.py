"""Knowledge layer: load policy documents, normalise, chunk along legal structure, curated FAQ."""
