"""The figures of design section 9, one module each; bench/run_all.py composes them."""
