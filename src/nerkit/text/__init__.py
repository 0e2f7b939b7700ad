"""The text pipeline: raw text to sentences and tokens with character offsets."""
