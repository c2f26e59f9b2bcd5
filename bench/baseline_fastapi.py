"""The baseline: the same two routes as a Python user would first write them, FastAPI + uvicorn.

Only bench/ uses it. Run: uvicorn bench.baseline_fastapi:app --host 127.0.0.1 --port 8090
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


def fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"message": "Hello from argo-python!"}


@app.get("/fibonacci/{n}")
async def fibonacci(n: int) -> dict[str, int]:
    return {"n": n, "result": fib(n)}
