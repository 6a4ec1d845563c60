"""dill: pickles lambdas, closures and script-defined code by value."""
