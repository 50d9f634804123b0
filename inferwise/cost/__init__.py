"""The cost engine: price catalogue, cost model, estimators, report and diff."""
