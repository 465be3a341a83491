"""What was read → checked values: coercion, legacy encodings, every check."""
