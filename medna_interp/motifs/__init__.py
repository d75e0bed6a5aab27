"""From ranked tokens to named motifs: FASTA export, STREME, TOMTOM vs JASPAR, logos, sites."""
