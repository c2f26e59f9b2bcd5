"""argo-python: a small JSON API (greeting and exact Fibonacci numbers) built for Kubernetes."""

__version__ = "0.1.0"
