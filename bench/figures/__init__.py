"""The figures of docs/DESIGN.md §9, one module each; bench/run_all.py composes them."""
