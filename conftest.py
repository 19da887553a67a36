"""Collection settings for the whole repository (pytest reads this before ``tests/``)."""

from hotline.compiled import COMPILED_MODULES, source_path

# A compiled module imports as its extension, not as the .py file pytest would collect its
# docstring examples from; tests/unit/test_compiled.py runs those examples on the source.
collect_ignore = [str(source_path(module)) for module in COMPILED_MODULES]
