"""Training: the splits read and encoded, the model sized, one epoch loop shared by every trainer (the
BiLSTM-CNN-CRF's steps and fine-tuning's), checkpoints and data-parallel processes. This package imports
without torch; `nerkit.training.train.train` is the entry point."""
