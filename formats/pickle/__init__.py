"""The standard library's pickle, protocols 4 and 5."""
