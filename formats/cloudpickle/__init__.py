"""cloudpickle: pickles functions by value (lambdas, local functions)."""
