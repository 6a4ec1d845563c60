"""joblib: plain, compressed (zlib, lz4), and loaded memory-mapped."""
