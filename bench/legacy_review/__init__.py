"""The review engine before tree-sitter (regular-expression lexers, rules on text), kept only so
that bench/review_bench.py can measure the tree-sitter engine against it in the same run."""
