"""The Learn algorithms: step-through, chain rule in words, forward mode, descent, check, gallery."""
