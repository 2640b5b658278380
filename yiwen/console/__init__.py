"""The staff console's knowledge side: documents, FAQ, versions, ingest jobs, hit test."""
