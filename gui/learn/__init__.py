"""The Learn tools: step-through, forward mode, gradient check, descent, chain-rule view."""
