"""The form spec: its model and loader, the formulas compiled from it, the bundled forms."""
