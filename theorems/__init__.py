"""theorems package."""
