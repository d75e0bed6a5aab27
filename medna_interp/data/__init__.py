"""Data: reading windows, synthetic grammars, tokenizers, composition, training splits."""
