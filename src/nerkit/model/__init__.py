"""The tagger: a BiLSTM-CNN-CRF sized from the data and the embeddings."""
