"""Word features from outside the training data: pretrained vectors."""
