"""The CoNLL data layer: reading and writing files, tag schemes and entity spans."""
