"""Learning: training, pretraining, the linear and CNN baselines, evaluation."""
