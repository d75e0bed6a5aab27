"""Causal checks in memory: motif mutagenesis, motif insertion, single-base variants."""
