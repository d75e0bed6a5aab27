"""Contrastive interpretation of a trained model: selection, CAD, CWGA, statistics."""
