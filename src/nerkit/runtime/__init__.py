"""Running an exported model without torch: onnxruntime for the network, numpy for the CRF."""
