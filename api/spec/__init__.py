"""Behaviour specs (Gherkin) run against rule packs: the phrase books, the world, the runner."""
