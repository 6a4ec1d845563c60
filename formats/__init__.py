"""One folder per persistence format; formats.registry lists every variant."""
