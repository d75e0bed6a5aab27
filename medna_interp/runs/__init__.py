"""The run layer: the step registry, records and resume, and one runner per step."""
