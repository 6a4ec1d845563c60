"""ONNX: skl2onnx export, served by onnxruntime (no scikit-learn needed to predict)."""
