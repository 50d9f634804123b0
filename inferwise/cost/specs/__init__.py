"""Instance and model specifications: data that the estimators, the advisor and the constructs all read.

They live in the cost layer, below everything that reads them, so imports only ever point down.
"""
