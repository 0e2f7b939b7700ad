"""Word features from outside the training data: pretrained vectors and transformer features."""

PRECISIONS = ("auto", "float32", "bfloat16")  # "auto": bfloat16 where the CPU multiplies it natively
POOLINGS = ("first", "mean")  # a token's transformer feature: its first sub-word's, or their mean
