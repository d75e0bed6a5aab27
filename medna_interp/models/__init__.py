"""The encoders of the two views and the MEDNA-DFM fusion model."""
