"""Auto: recognise the task of a prompt (features, classify) and choose the model that suits it (table)."""
