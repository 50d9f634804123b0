"""The gateway's Runtime API loop: `launch` (the function's AWS_LAMBDA_EXEC_WRAPPER) runs
`python -m gateway.runtime`, which answers every invocation through `loop.py` and streams it (`api.py`)."""
