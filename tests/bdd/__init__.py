"""Behaviour specs in plain language: the step library that runs the Gherkin features in features/."""
